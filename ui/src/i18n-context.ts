import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { dictionaries, DEFAULT_LANG, type Messages } from './i18n';

/** The dictionary of the current language, provided by <App>. */
export const MessagesContext = createContext<Messages>(dictionaries[DEFAULT_LANG]);

export function useMessages(): Messages {
  return useContext(MessagesContext);
}
