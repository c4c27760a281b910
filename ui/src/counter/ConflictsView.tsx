import { useCallback, useLayoutEffect, useState } from 'preact/hooks';
import { toCommandError, type CommandError } from '../api';
import { errorMessage, fill, type Messages } from '../i18n';
import { useMessages } from '../i18n-context';
import { counterApi, type Resolution, type Unsettled } from './api';
import { ErrorLine } from './ErrorLine';
import './ConflictsView.css';
import { useLang } from './useLang';
import { assetStatus, bookingStatus } from './words';

/** What staff did, in words. */
function what(t: Messages, lang: string, item: Unsettled): string {
  const action = item.action;
  switch (action.kind) {
    case 'update_asset': {
      const plate = item.result.asset?.plate_or_serial ?? action.asset_id.slice(0, 8);
      if (action.odometer_km != null) {
        return fill(t.conflictOdometer, { plate, km: action.odometer_km.toLocaleString(lang) });
      }
      return fill(t.conflictAssetStatus, { plate, status: assetStatus(t, action.status ?? '') });
    }
    case 'confirm_booking':
      return fill(t.conflictConfirm, { id: action.booking_id.slice(0, 8) });
    case 'cancel_booking':
      return fill(t.conflictCancel, { id: action.booking_id.slice(0, 8) });
  }
}

/** The record as the server has it now, in words. */
function now(t: Messages, lang: string, item: Unsettled): string | null {
  const { asset, booking } = item.result;
  if (asset) {
    return fill(t.conflictNowAsset, {
      km: asset.odometer_km?.toLocaleString(lang) ?? '—',
      status: assetStatus(t, asset.status),
    });
  }
  if (booking) return fill(t.conflictNowBooking, { status: bookingStatus(t, booking.status) });
  return null;
}

/**
 * The changes the server did not take: what was done, why, the record as it is now, and the
 * choice: keep the server's record, or send the change again on top of it.
 */
export function ConflictsView({ onChanged }: { onChanged: () => void }) {
  const t = useMessages();
  const lang = useLang();
  const [items, setItems] = useState<Unsettled[] | null>(null);
  const [error, setError] = useState<CommandError | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(() => {
    counterApi.unsettledChanges().then(setItems, (e) => setError(toCommandError(e)));
  }, []);
  useLayoutEffect(load, [load]);

  const resolve = async (item: Unsettled, resolution: Resolution) => {
    setBusy(true);
    setError(null);
    try {
      await counterApi.resolveUnsettled(item.op_id, resolution);
      // A change sent again goes out with a round now, not in up to 30 s.
      if (resolution === 'send_again') counterApi.syncNow().catch(() => {});
      onChanged();
      load();
    } catch (e) {
      setError(toCommandError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel" aria-labelledby="conflicts-title" data-testid="conflicts-view">
      <h2 id="conflicts-title">{t.conflictsTitle}</h2>
      {error && <ErrorLine error={error} testId="conflict-error" />}
      {items?.length === 0 && <p class="muted">{t.conflictsNone}</p>}
      <ul class="conflicts">
        {items?.map((item) => (
          <li key={item.op_id} data-testid="conflict">
            <strong data-testid="conflict-what">{what(t, lang, item)}</strong>
            <p data-testid="conflict-why">
              {errorMessage(t, item.result.code ?? '')}
              {!item.can_send_again && <> {t.conflictFinal}</>}{' '}
              <code class="muted" title={item.result.message}>
                {item.result.code}
              </code>
            </p>
            {now(t, lang, item) && <p data-testid="conflict-now">{now(t, lang, item)}</p>}
            <div class="actions">
              <button
                type="button"
                class="btn"
                data-testid="keep-server"
                disabled={busy}
                onClick={() => resolve(item, 'keep_server')}
              >
                {t.keepServer}
              </button>
              {item.can_send_again && (
                <button
                  type="button"
                  class="btn btn-primary"
                  data-testid="send-again"
                  disabled={busy}
                  onClick={() => resolve(item, 'send_again')}
                >
                  {t.sendAgain}
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
