import type { CommandError } from '../api';
import { errorMessage } from '../i18n';
import { useMessages } from '../i18n-context';

/** A command error as staff read it: the translated text, the code for support. */
export function ErrorLine({ error, testId }: { error: CommandError; testId: string }) {
  const t = useMessages();
  return (
    <p class="error-line" role="alert" data-testid={testId} data-code={error.code}>
      {errorMessage(t, error.code)}{' '}
      <code class="muted" title={error.message || undefined}>
        {error.code}
      </code>
    </p>
  );
}
