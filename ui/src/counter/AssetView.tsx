import { useEffect, useState } from 'preact/hooks';
import { toCommandError, type CommandError } from '../api';
import { fill } from '../i18n';
import { useMessages } from '../i18n-context';
import { counterApi, type Asset, type Booking, type CounterCustomer, type LabelPreview as Preview } from './api';
import { LabelPreview } from './LabelPreview';
import { statusText } from './Dashboard';
import { assetStatus } from './words';
import { ErrorLine } from './ErrorLine';
import { period } from './format';
import { useLang } from './useLang';

/** An asset's card: details, coming bookings, and its QR label to print or save. */
export function AssetView({
  asset,
  offline,
  bookings,
  onChanged,
}: {
  asset: Asset;
  offline: boolean | null;
  bookings: { booking: Booking; customer: CounterCustomer | null }[] | null;
  /** A local change was saved (the banner's pending count changes). */
  onChanged: () => void;
}) {
  const t = useMessages();
  const lang = useLang();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<CommandError | null>(null);
  const [path, setPath] = useState('');
  const [preview, setPreview] = useState<Preview | null>(null);
  const [odometer, setOdometer] = useState<number | null>(asset.odometer_km);
  // The same asset shown again (a new scan, a sync) brings its reading as the copy has it now.
  useEffect(() => setOdometer(asset.odometer_km), [asset]);
  const [reading, setReading] = useState('');
  const [previewing, setPreviewing] = useState(false);
  const km = kilometres(reading);

  const run = async (work: () => Promise<string>) => {
    setBusy(true);
    setDone(null);
    setError(null);
    try {
      setDone(await work());
    } catch (e) {
      setError(toCommandError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel" aria-labelledby="asset-title" data-testid="asset-view">
      <h2 id="asset-title">
        {t.assetTitle}: <span data-testid="asset-plate">{asset.plate_or_serial}</span>
      </h2>
      {offline !== null && (
        <p class="muted" data-testid="asset-source">
          {offline ? t.fromCopy : t.fromServer}
        </p>
      )}
      <dl class="facts">
        <div>
          <dt>{t.assetModel}</dt>
          <dd data-testid="asset-model">{asset.sku_name}</dd>
        </div>
        <div>
          <dt>{t.assetStatus}</dt>
          <dd data-testid="asset-status">{assetStatus(t, asset.status)}</dd>
        </div>
        <div>
          <dt>{t.assetOdometer}</dt>
          <dd data-testid="asset-odometer">{odometer == null ? '—' : `${odometer.toLocaleString(lang)} km`}</dd>
        </div>
        <div>
          <dt>{t.assetLabelVersion}</dt>
          <dd>{asset.label_version}</dd>
        </div>
      </dl>
      {bookings && (
        <>
          <h3>{t.assetComing}</h3>
          {bookings.length === 0 ? (
            <p class="muted">{t.noneToday}</p>
          ) : (
            <ul data-testid="asset-bookings">
              {bookings.map((b) => (
                <li key={b.booking.id}>
                  {period(b.booking.start, b.booking.end, lang)} — {b.customer?.full_name ?? '—'} (
                  {statusText(t, b.booking.status)})
                </li>
              ))}
            </ul>
          )}
        </>
      )}
      <form
        class="actions"
        onSubmit={(e) => {
          e.preventDefault();
          if (km === null) return;
          run(async () => {
            // Saved in the copy and queued at once; the next round sends it (now, if online).
            await counterApi.recordOdometer(asset.id, km);
            setOdometer(km);
            setReading('');
            onChanged();
            counterApi.syncNow().catch(() => {});
            return t.odometerSaved;
          });
        }}
      >
        <label class="inline">
          {t.odometerLabel}
          <input
            data-testid="odometer-input"
            inputMode="numeric"
            value={reading}
            onInput={(e) => setReading(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="btn" data-testid="odometer-save" disabled={busy || km === null}>
          {t.saveOdometer}
        </button>
      </form>
      {preview && (
        <LabelPreview
          preview={preview}
          busy={busy}
          onCancel={() => setPreview(null)}
          onPrint={() =>
            run(async () => {
              const printed = await counterApi.printLabel(asset.id, preview.label_version);
              setPreview(null);
              return fill(t.printed, { n: printed.job_id });
            })
          }
        />
      )}
      <div class="actions">
        <button
          type="button"
          class="btn btn-primary"
          data-testid="print-label"
          disabled={busy || preview !== null}
          onClick={() => {
            setPreviewing(true);
            run(async () => {
              setPreview(await counterApi.labelPreview(asset.id));
              return '';
            }).finally(() => setPreviewing(false));
          }}
        >
          {previewing ? t.previewing : t.printLabel}
        </button>
        <label class="inline">
          {t.savePath}
          <input
            data-testid="save-path"
            value={path}
            placeholder="/home/kasir/label.pdf"
            onInput={(e) => setPath(e.currentTarget.value)}
          />
        </label>
        <button
          type="button"
          class="btn"
          data-testid="save-label"
          disabled={busy || !path.trim()}
          onClick={() =>
            run(async () => {
              await counterApi.saveLabel(asset.id, path.trim());
              return t.saved;
            })
          }
        >
          {t.saveLabel}
        </button>
      </div>
      {done && (
        <p class="ok" role="status" data-testid="label-done">
          {done}
        </p>
      )}
      {error && <ErrorLine error={error} testId="label-error" />}
    </section>
  );
}

/**
 * A typed odometer reading in whole kilometres: digits, optionally grouped by thousands with
 * dots, commas or spaces (`12.345`, `12,345`, `12 345`); anything else (a decimal part) is not one.
 */
export function kilometres(text: string): number | null {
  const value = text.trim();
  if (!/^\d{1,3}([.,\s]\d{3})*$/.test(value) && !/^\d+$/.test(value)) return null;
  const km = Number(value.replace(/[.,\s]/g, ''));
  return Number.isSafeInteger(km) && km <= 2_000_000_000 ? km : null;
}
