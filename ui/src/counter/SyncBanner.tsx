import { fill } from '../i18n';
import { useMessages } from '../i18n-context';
import type { CounterState, SyncEvent } from './api';
import './SyncBanner.css';

/** Offline state, pending changes and sync progress, always in view. */
export function SyncBanner({
  state,
  lastEvent,
  onSyncNow,
  onShowConflicts,
}: {
  state: CounterState;
  lastEvent: SyncEvent | null;
  onSyncNow: () => void;
  onShowConflicts: () => void;
}) {
  const t = useMessages();
  const offline = lastEvent?.event === 'offline' || (state.offline_session && lastEvent?.event !== 'synced');
  let progress: string | null = null;
  if (lastEvent?.event === 'started') progress = t.syncing;
  if (lastEvent?.event === 'pulling') {
    progress = fill(lastEvent.first_copy ? t.syncFirstCopy : t.syncProgress, { n: lastEvent.records });
  }
  if (lastEvent?.event === 'synced') progress = t.syncDone;
  return (
    <div class={`sync-banner${offline ? ' offline' : ''}`} data-testid="sync-banner" role="status">
      {offline && (
        <strong data-testid="offline-banner">
          {t.offlineBanner}
          {lastEvent?.event === 'offline' && lastEvent.retry_in_secs > 0 && (
            <> — {fill(t.offlineRetry, { s: lastEvent.retry_in_secs })}</>
          )}
        </strong>
      )}
      {!offline && progress && <span data-testid="sync-progress">{progress}</span>}
      {state.pending > 0 && (
        <span class="badge" data-testid="pending-count">
          {fill(t.pendingChanges, { n: state.pending })}
        </span>
      )}
      {state.unsettled > 0 && (
        <button type="button" class="badge badge-late" data-testid="unsettled-count" onClick={onShowConflicts}>
          {fill(t.unsettledChanges, { n: state.unsettled })}
        </button>
      )}
      <button type="button" class="btn btn-small" data-testid="sync-now" onClick={onSyncNow}>
        {t.syncNow}
      </button>
    </div>
  );
}
