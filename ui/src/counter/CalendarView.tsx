import { useState } from 'preact/hooks';
import { toCommandError, type CommandError } from '../api';
import { useMessages } from '../i18n-context';
import { counterApi, type SkuCalendar } from './api';
import { ErrorLine } from './ErrorLine';

/** A SKU's month at this branch: free units per day (asks the server). */
export function CalendarView({ month }: { month: string }) {
  const t = useMessages();
  const [sku, setSku] = useState('AVANZA-13G-AT');
  const [chosenMonth, setMonth] = useState(month);
  const [calendar, setCalendar] = useState<SkuCalendar | null>(null);
  const [error, setError] = useState<CommandError | null>(null);

  const show = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      setCalendar(await counterApi.skuCalendar(sku.trim().toUpperCase(), chosenMonth));
    } catch (err) {
      setCalendar(null);
      setError(toCommandError(err));
    }
  };

  return (
    <section class="panel" aria-labelledby="calendar-title">
      <h2 id="calendar-title">{t.calendarTitle}</h2>
      <form class="form inline-form" onSubmit={show}>
        <label>
          {t.calendarSku}
          <input data-testid="calendar-sku" value={sku} onInput={(e) => setSku(e.currentTarget.value)} />
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
    </section>
  );
}
