import { useState } from 'preact/hooks';
import { toCommandError, type CommandError } from '../api';
import { useMessages } from '../i18n-context';
import { fill } from '../i18n';
import { counterApi, type SkuCalendar, type WaitlistQueue } from './api';
import { ErrorLine } from './ErrorLine';
import { period } from './format';
import { useLang } from './useLang';

/** A SKU's month at this branch: free units per day, and its waitlist (asks the server). */
export function CalendarView({ month }: { month: string }) {
  const t = useMessages();
  const lang = useLang();
  const [queue, setQueue] = useState<WaitlistQueue | null>(null);
  const [sku, setSku] = useState('');
  const [chosenMonth, setMonth] = useState(month);
  const [calendar, setCalendar] = useState<SkuCalendar | null>(null);
  const [error, setError] = useState<CommandError | null>(null);

  const show = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const code = sku.trim().toUpperCase();
    if (!code) return;
    // The waitlist is for admins: an inspector still gets the calendar.
    const [days, waiting] = await Promise.allSettled([
      counterApi.skuCalendar(code, chosenMonth),
      counterApi.skuWaitlist(code),
    ]);
    setCalendar(days.status === 'fulfilled' ? days.value : null);
    setQueue(waiting.status === 'fulfilled' ? waiting.value : null);
    if (days.status === 'rejected') setError(toCommandError(days.reason));
  };

  return (
    <section class="panel" aria-labelledby="calendar-title">
      <h2 id="calendar-title">{t.calendarTitle}</h2>
      <form class="form inline-form" onSubmit={show}>
        <label>
          {t.calendarSku}
          <input
            data-testid="calendar-sku"
            required
            placeholder="AVANZA-13G-AT"
            value={sku}
            onInput={(e) => setSku(e.currentTarget.value)}
          />
        </label>
        <label>
          {t.calendarMonth}
          <input
            type="month"
            data-testid="calendar-month"
            value={chosenMonth}
            onInput={(e) => setMonth(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="btn btn-primary" data-testid="calendar-show">
          {t.calendarShow}
        </button>
      </form>
      {error && <ErrorLine error={error} testId="calendar-error" />}
      {calendar && (
        <ol class="calendar" data-testid="calendar-days">
          {calendar.days.map((d) => (
            <li key={d.date} class={`day ${d.state}`} data-testid={`day-${d.date}`}>
              <span class="date">{Number(d.date.slice(8))}</span>
              <span class="free">
                {d.free_units}/{d.total_units} {t.calendarFree}
              </span>
            </li>
          ))}
        </ol>
      )}
      {queue && (
        <div data-testid="waitlist">
          <h3>{t.waitlistTitle}</h3>
          {queue.items.length === 0 ? (
            <p class="muted">{t.noneToday}</p>
          ) : (
            <ol class="waitlist">
              {queue.items.map((w) => (
                <li key={w.id} data-testid="waitlist-row">
                  {period(w.start, w.end, lang)} —{' '}
                  {w.status === 'OFFERED'
                    ? t.waitlistOffered
                    : fill(t.waitlistPlace, { n: w.position ?? '?' })}{' '}
                  <code class="muted">{w.customer_id.slice(-8)}</code>
                </li>
              ))}
            </ol>
          )}
        </div>
      )}
    </section>
  );
}
