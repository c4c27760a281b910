import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { serverStatus, toCommandError, type CommandError, type ServerStatus } from './api';
import { errorMessage } from './i18n';
import { useMessages } from './i18n-context';

type PanelState =
  | { kind: 'loading' }
  | { kind: 'ok'; status: ServerStatus }
  | { kind: 'error'; error: CommandError };

export function StatusPanel() {
  const t = useMessages();
  const [state, setState] = useState<PanelState>({ kind: 'loading' });
  // Only the latest request may update the panel; also stops updates after unmount.
  const requestId = useRef(0);

  const check = useCallback(() => {
    const id = ++requestId.current;
    setState({ kind: 'loading' });
    serverStatus().then(
      (status) => {
        if (id === requestId.current) setState({ kind: 'ok', status });
      },
      (e: unknown) => {
        if (id === requestId.current) setState({ kind: 'error', error: toCommandError(e) });
      },
    );
  }, []);

  useEffect(() => {
    check();
    return () => {
      requestId.current++;
    };
  }, [check]);

  const loading = state.kind === 'loading';

  return (
    <section class="panel" aria-labelledby="status-title" aria-busy={loading}>
      <div class="panel-head">
        <h2 id="status-title">{t.statusTitle}</h2>
        <button
          type="button"
          class="btn btn-primary"
          data-testid="check-again"
          onClick={check}
          disabled={loading}
        >
          {t.statusCheckAgain}
        </button>
      </div>

      {state.kind === 'loading' && (
        <p class="loading" data-testid="server-loading" role="status">
          <span class="spinner" aria-hidden="true" />
          {t.statusLoading}
        </p>
      )}

      {state.kind === 'error' && (
        <div class="error" role="alert">
          <h3 class="error-title">{t.errorTitle}</h3>
          <p class="error-message" data-testid="server-error">
            {errorMessage(t, state.error.code)}
          </p>
          <p class="error-code-line">
            {t.errorCodeLabel}:{' '}
            <code data-testid="error-code" title={state.error.message || undefined}>
              {state.error.code}
            </code>
          </p>
        </div>
      )}

      {state.kind === 'ok' && <StatusDetails status={state.status} />}
    </section>
  );
}

function StatusDetails({ status }: { status: ServerStatus }) {
  const t = useMessages();
  return (
    <div class="status">
      <p class={`state ${status.ready ? 'state-ready' : 'state-degraded'}`}>
        <span class="state-label">{t.statusState}:</span>{' '}
        <strong data-testid="server-state">{status.ready ? t.statusReady : t.statusDegraded}</strong>
      </p>

      <dl class="facts">
        <div>
          <dt>{t.statusServerUrl}</dt>
          <dd data-testid="server-url">{status.server_url}</dd>
        </div>
        <div>
          <dt>{t.statusVersion}</dt>
          <dd data-testid="server-version">{status.version}</dd>
        </div>
        <div>
          <dt>{t.statusApiVersion}</dt>
          <dd data-testid="server-api-version">{String(status.api_version)}</dd>
        </div>
      </dl>

      <h3 class="checks-title">{t.statusChecks}</h3>
      {status.checks.length === 0 ? (
        <p class="muted">{t.statusNoChecks}</p>
      ) : (
        <ul class="checks" data-testid="server-checks">
          {status.checks.map((c) => (
            <li
              key={c.name}
              class={`check ${c.ok ? 'check-ok' : 'check-failed'}`}
              data-testid={`check-${c.name}`}
              data-ok={c.ok ? 'true' : 'false'}
            >
              <span class="check-name">{c.name}</span>
              <span class="badge">{c.ok ? t.checkOk : t.checkFailed}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
