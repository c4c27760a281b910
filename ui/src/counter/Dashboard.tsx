import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { toCommandError, type CommandError } from '../api';
import { fill } from '../i18n';
import { useMessages } from '../i18n-context';
import { counterApi, takeFirst, type CounterDay, type DayEntry } from './api';
import { ErrorLine } from './ErrorLine';
import { daysBetween, period, rupiah } from './format';
import { useLang } from './useLang';

/** Today's pickups, returns and overdue rentals, from the branch copy. */
export function Dashboard({ refresh, onPlate }: { refresh: number; onPlate: (p: string) => void }) {
  const t = useMessages();
  // Put in the page by the app (first_screen.rs): the first render needs no round trip.
  const [injected] = useState(() => takeFirst('day') ?? null);
  const [day, setDay] = useState<CounterDay | null>(injected);
  const [error, setError] = useState<CommandError | null>(null);
  const fresh = useRef(injected !== null);

  // A layout effect asks at once (see App): the day is the first thing staff look at. The
  // injected day is milliseconds old: it is not asked for again until the next round's refresh.
  useLayoutEffect(() => {
    if (fresh.current) {
      fresh.current = false;
      return;
    }
    let live = true;
    counterApi.counterDay().then(
      (d) => live && (setDay(d), setError(null)),
      (e) => live && setError(toCommandError(e)),
    );
    return () => {
      live = false;
    };
  }, [refresh]);

  if (error) return <ErrorLine error={error} testId="today-error" />;
  if (!day) return <p class="loading">…</p>;
  return (
    <section class="panel" aria-labelledby="today-title">
      <h2 id="today-title">{t.todayTitle}</h2>
      <DayList id="overdue" title={t.overdue} entries={day.overdue} today={day.date} onPlate={onPlate} late />
      <DayList id="pickups" title={t.pickups} entries={day.pickups} today={day.date} onPlate={onPlate} />
      <DayList id="returns" title={t.returns} entries={day.returns} today={day.date} onPlate={onPlate} />
    </section>
  );
}

function DayList(props: {
  id: string;
  title: string;
  entries: DayEntry[];
  today: string;
  late?: boolean;
  onPlate: (plate: string) => void;
}) {
  const t = useMessages();
  const lang = useLang();
  return (
    <div class={`day-list${props.late && props.entries.length ? ' late' : ''}`} data-testid={props.id}>
      <h3>
        {props.title} <span class="count">{props.entries.length}</span>
      </h3>
      {props.entries.length === 0 ? (
        <p class="muted">{t.noneToday}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>{t.colPlate}</th>
              <th>{t.colCustomer}</th>
              <th>{t.colPeriod}</th>
              <th>{t.colTotal}</th>
            </tr>
          </thead>
          <tbody>
            {props.entries.map((e) => (
              <tr key={e.booking.id} data-testid={`${props.id}-row`}>
                <td>
                  {e.plate ? (
                    <button type="button" class="link" onClick={() => props.onPlate(e.plate!)}>
                      {e.plate}
                    </button>
                  ) : (
                    '—'
                  )}
                </td>
                <td>{e.customer?.full_name ?? '—'}</td>
                <td>
                  {period(e.booking.start, e.booking.end, lang)}
                  {props.late && (
                    <span class="badge badge-late">
                      {' '}
                      {fill(t.daysLate, { n: daysBetween(e.booking.end, props.today) })}
                    </span>
                  )}
                </td>
                <td class="num">{rupiah(e.booking.total_idr, lang)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** The status of a booking in words. */
export { bookingStatus as statusText } from './words';
