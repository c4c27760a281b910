import { useCallback, useEffect, useLayoutEffect, useState } from 'preact/hooks';
import { CounterApp } from './counter/CounterApp';
import {
  counterApi,
  isWorking,
  SESSION_ENDED_EVENT,
  SIGNED_OUT,
  takeFirst,
  type CounterState,
} from './counter/api';
import { LangContext } from './counter/useLang';
import { LoginScreen } from './counter/LoginScreen';
import { toCommandError, type CommandError } from './api';
import { ErrorLine } from './counter/ErrorLine';
import { dictionaries, loadLang, saveLang, LANGS, type Lang, type Messages } from './i18n';
import { MessagesContext } from './i18n-context';
import { StatusPanel } from './StatusPanel';

const LANG_NAME_KEY: Record<Lang, keyof Messages> = {
  id: 'languageId',
  en: 'languageEn',
};

export function App() {
  const [lang, setLang] = useState<Lang>(loadLang);
  // The app may have put the state in the page already (first_screen.rs): drawn at once, and
  // not asked for again (it is milliseconds old; sync rounds and actions refresh it).
  const [injected] = useState(() => takeFirst('state') ?? null);
  const [state, setState] = useState<CounterState | null>(injected);
  const [problem, setProblem] = useState<CommandError | null>(null);
  const t = dictionaries[lang];

  // Layout effect: <html lang> changes in the same commit as the texts.
  useLayoutEffect(() => {
    document.documentElement.lang = lang;
    document.title = t.appName;
  }, [lang, t]);

  // Asked in a layout effect, right after the first render: a plain effect waits for the next
  // animation frame, up to 100 ms in a window nobody has drawn yet, and the start pays for it.
  useLayoutEffect(() => {
    if (injected) return;
    counterApi.appState().then(setState, (e) => {
      // The login screen, and why the app could not start as it was left.
      setProblem(toCommandError(e));
      setState(SIGNED_OUT);
    });
  }, [injected]);

  // Any command that found the session ended: the state now says so (the login screen).
  useEffect(() => {
    const reread = () => counterApi.appState().then(setState, () => {});
    window.addEventListener(SESSION_ENDED_EVENT, reread);
    return () => window.removeEventListener(SESSION_ENDED_EVENT, reread);
  }, []);

  const choose = (next: Lang) => {
    setLang(next);
    saveLang(next);
  };
  const logout = useCallback(() => {
    // A logout that failed must not look done: the next start could resume this session.
    counterApi.logout().then(
      (next) => {
        setProblem(null);
        setState(next);
      },
      (e) => setProblem(toCommandError(e)),
    );
  }, []);

  const working = state && isWorking(state);

  return (
    <LangContext.Provider value={lang}>
      <MessagesContext.Provider value={t}>
        <header class="app-header">
          <div class="brand">
            <h1 data-testid="app-name">{t.appName}</h1>
            <span class="tagline">
              {state?.branch ? (
                <span data-testid="branch-name">
                  {state.branch.code} — {state.branch.name}
                </span>
              ) : (
                t.appTagline
              )}
            </span>
          </div>
          {working && (
            <div class="who">
              <span data-testid="who">{state.signed_in?.email ?? state.kept_email}</span>
              <button type="button" class="btn btn-small" data-testid="logout" onClick={logout}>
                {t.logout}
              </button>
            </div>
          )}
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
          {problem && <ErrorLine error={problem} testId="app-problem" />}
          {state === null ? (
            <p class="loading" role="status" data-testid="starting">
              <span class="spinner" aria-hidden="true" />
              {t.starting}
            </p>
          ) : working ? (
            <CounterApp state={state} onState={setState} />
          ) : (
            <>
              <LoginScreen
                reason={state.login_reason}
                keychainProblem={state.keychain_problem}
                onSignedIn={setState}
              />
              <StatusPanel />
            </>
          )}
        </main>
      </MessagesContext.Provider>
    </LangContext.Provider>
  );
}
