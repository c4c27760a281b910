/**
 * How the counter shows money and dates: whole Rupiah (`Rp 1.250.000`) and
 * the branch's local dates (`2 Des 2026`). Booking dates are already branch
 * dates (no time zone to apply); the return day is exclusive, so a rental
 * shown as 2–4 Des comes back on the 4th.
 */
import type { Lang } from '../i18n';

const LOCALE: Record<Lang, string> = { id: 'id-ID', en: 'en-GB' };

/** Whole Rupiah with the thousands separator of the language. */
export function rupiah(amount: number, lang: Lang): string {
  const digits = new Intl.NumberFormat(LOCALE[lang], { maximumFractionDigits: 0 }).format(amount);
  return `Rp ${digits}`;
}

/** A `YYYY-MM-DD` branch date, e.g. `2 Des 2026`. */
export function day(date: string, lang: Lang): string {
  const [y, m, d] = date.split('-').map(Number);
  if (!y || !m || !d) return date;
  // Noon UTC keeps the calendar date whatever the machine's own zone.
  return new Intl.DateTimeFormat(LOCALE[lang], {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    timeZone: 'UTC',
  }).format(new Date(Date.UTC(y, m - 1, d, 12)));
}

/** `start – end` of a rental. */
export function period(start: string, end: string, lang: Lang): string {
  return `${day(start, lang)} – ${day(end, lang)}`;
}

/** Whole days from `from` to `to` (both `YYYY-MM-DD`). */
export function daysBetween(from: string, to: string): number {
  const ms = Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`);
  return Math.round(ms / 86_400_000);
}
