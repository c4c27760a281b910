import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { DEFAULT_LANG, type Lang } from '../i18n';

/** The current UI language, provided by <App> (for number and date formats). */
export const LangContext = createContext<Lang>(DEFAULT_LANG);

export function useLang(): Lang {
  return useContext(LangContext);
}
