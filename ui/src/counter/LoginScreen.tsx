import { useEffect, useState } from 'preact/hooks';
import { toCommandError, type CommandError } from '../api';
import { useMessages } from '../i18n-context';
import { counterApi, type Branch, type CounterState } from './api';
import { ErrorLine } from './ErrorLine';

/** E-mail, password and (for staff of several branches) the branch. */
export function LoginScreen({
  reason,
  keychainProblem,
  onSignedIn,
}: {
  reason: string | null;
  keychainProblem: string | null;
  onSignedIn: (state: CounterState) => void;
}) {
  const t = useMessages();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [branch, setBranch] = useState('');
  const [branches, setBranches] = useState<Branch[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);

  useEffect(() => {
    counterApi.branches().then(setBranches, () => setBranches([]));
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await counterApi.login(email.trim(), password, branch || null));
    } catch (err) {
      const failure = toCommandError(err);
      setError(failure);
      setPassword('');
      // The branch list may have failed to load: try again when a choice is needed.
      if (failure.code === 'branch_required') counterApi.branches().then(setBranches, () => {});
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel login" aria-labelledby="login-title">
      <h2 id="login-title">{t.loginTitle}</h2>
      {reason === 'session_ended' && (
        <p class="notice" data-testid="login-reason">
          {t.loginSessionEnded}
        </p>
      )}
      {keychainProblem && (
        <p class="notice" data-testid="keychain-problem" title={keychainProblem}>
          {t.keychainMissing}
        </p>
      )}
      <form onSubmit={submit} class="form">
        <label>
          {t.loginEmail}
          <input
            type="email"
            autoComplete="username"
            required
            data-testid="login-email"
            value={email}
            onInput={(e) => setEmail(e.currentTarget.value)}
          />
        </label>
        <label>
          {t.loginPassword}
          <input
            type="password"
            autoComplete="current-password"
            required
            data-testid="login-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <label>
          {t.loginBranch}
          <select
            data-testid="login-branch"
            value={branch}
            onChange={(e) => setBranch(e.currentTarget.value)}
          >
            <option value="">{t.loginBranchAny}</option>
            {branches.map((b) => (
              <option key={b.id} value={b.id}>
                {b.code} — {b.name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="btn btn-primary" data-testid="login-submit" disabled={busy}>
          {busy ? t.loginWorking : t.loginSubmit}
        </button>
      </form>
      {error && <ErrorLine error={error} testId="login-error" />}
    </section>
  );
}
