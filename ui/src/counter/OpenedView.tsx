import { useMessages } from '../i18n-context';
import type { Opened } from './api';
import { AssetView } from './AssetView';
import { statusText } from './Dashboard';
import { period, rupiah } from './format';
import { useLang } from './useLang';
import { kycStatus, tier } from './words';

/** The screen a scan opened: a booking, an asset, or a document to verify. */
export function OpenedView({ opened, onChanged }: { opened: Opened; onChanged: () => void }) {
  const t = useMessages();
  const lang = useLang();
  if (opened.screen === 'asset') {
    return (
      <AssetView
        key={opened.asset.id}
        asset={opened.asset}
        offline={opened.offline}
        bookings={null}
        onChanged={onChanged}
      />
    );
  }
  if (opened.screen === 'verify') {
    return (
      <section class="panel" data-testid="verify-view">
        <h2>{t.verifyTitle}</h2>
        <p>
          {t.verifyHash}: <code data-testid="verify-hash">{opened.hash}</code>
        </p>
      </section>
    );
  }
  const { booking, customer } = opened;
  return (
    <section class="panel" aria-labelledby="booking-title" data-testid="booking-view">
      <h2 id="booking-title">
        {t.bookingTitle} <code data-testid="booking-id">{booking.id.slice(-8)}</code>
      </h2>
      <p class="muted" data-testid="booking-source">
        {opened.offline ? t.fromCopy : t.fromServer}
      </p>
      <dl class="facts">
        <div>
          <dt>{t.colStatus}</dt>
          <dd data-testid="booking-status">{statusText(t, booking.status)}</dd>
        </div>
        <div>
          <dt>{t.bookingPeriod}</dt>
          <dd data-testid="booking-period">{period(booking.start, booking.end, lang)}</dd>
        </div>
        <div>
          <dt>{t.bookingTotal}</dt>
          <dd data-testid="booking-total">{rupiah(booking.total_idr, lang)}</dd>
        </div>
        {customer && (
          <>
            <div>
              <dt>{t.bookingCustomer}</dt>
              <dd data-testid="booking-customer">{customer.full_name}</dd>
            </div>
            <div>
              <dt>{t.bookingNik}</dt>
              <dd>{customer.nik_masked ?? '—'}</dd>
            </div>
            <div>
              <dt>{t.bookingKyc}</dt>
              <dd data-testid="booking-kyc">{kycStatus(t, customer.kyc_status)}</dd>
            </div>
            <div>
              <dt>{t.bookingTier}</dt>
              <dd>{tier(t, customer.membership_tier)}</dd>
            </div>
          </>
        )}
      </dl>
    </section>
  );
}
