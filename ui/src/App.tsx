import { useLayoutEffect, useState } from 'preact/hooks';
import { dictionaries, loadLang, saveLang, LANGS, type Lang, type Messages } from './i18n';
import { MessagesContext } from './i18n-context';
import { StatusPanel } from './StatusPanel';

const LANG_NAME_KEY: Record<Lang, keyof Messages> = {
  id: 'languageId',
  en: 'languageEn',
};

export function App() {
  const [lang, setLang] = useState<Lang>(loadLang);
  const t = dictionaries[lang];

  // Layout effect: <html lang> changes in the same commit as the texts.
  useLayoutEffect(() => {
    document.documentElement.lang = lang;
    document.title = t.appName;
  }, [lang, t]);

  const choose = (next: Lang) => {
    setLang(next);
    saveLang(next);
  };

  return (
    <MessagesContext.Provider value={t}>
      <header class="app-header">
        <div class="brand">
          <h1 data-testid="app-name">{t.appName}</h1>
          <span class="tagline">{t.appTagline}</span>
        </div>
        <div class="lang-switch" role="group" aria-label={t.languageLabel}>
          <span class="lang-label" aria-hidden="true">
            {t.languageLabel}
          </span>
          {LANGS.map((l) => (
            <button
              key={l}
              type="button"
              class={`btn lang-btn${l === lang ? ' active' : ''}`}
              data-testid={`lang-${l}`}
              lang={l}
              aria-pressed={l === lang}
              onClick={() => choose(l)}
            >
              {t[LANG_NAME_KEY[l]]}
            </button>
          ))}
        </div>
      </header>
      <main class="app-main">
        <StatusPanel />
      </main>
    </MessagesContext.Provider>
  );
}
