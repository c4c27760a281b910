import { useEffect, useState } from 'preact/hooks';
import { toCommandError, type CommandError } from '../api';
import { useMessages } from '../i18n-context';
import {
  counterApi,
  type LineEnding,
  type PortChoice,
  type Preferences,
  type PrinterInfo,
} from './api';
import { ErrorLine } from './ErrorLine';

const BAUD_RATES = [9600, 19200, 38400, 57600, 115200];
const ENDINGS: LineEnding[] = ['auto', 'cr', 'lf', 'crlf'];

/** Server address, scanner port / baud rate / line ending, print server and printer. */
export function SettingsPanel() {
  const t = useMessages();
  const [prefs, setPrefs] = useState<Preferences | null>(null);
  const [ports, setPorts] = useState<PortChoice[]>([]);
  const [printers, setPrinters] = useState<PrinterInfo[]>([]);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);

  useEffect(() => {
    counterApi.preferences().then(setPrefs, (e) => setError(toCommandError(e)));
    counterApi.serialPorts().then(setPorts, () => setPorts([]));
    counterApi.printers().then(setPrinters, () => setPrinters([]));
  }, []);

  if (!prefs) return error ? <ErrorLine error={error} testId="settings-error" /> : null;

  const scanner = prefs.scanner ?? { port: '', baud_rate: 9600, line_ending: 'auto' as LineEnding };
  // Functional updates: two quick changes in a row both count.
  const update = (next: (p: Preferences) => Partial<Preferences>) => {
    setSaved(false);
    setPrefs((p) => (p ? { ...p, ...next(p) } : p));
  };
  const updateScanner = (next: Partial<typeof scanner>) =>
    update((p) => {
      const current = p.scanner ?? { port: '', baud_rate: 9600, line_ending: 'auto' as LineEnding };
      const merged = { ...current, ...next };
      return { scanner: merged.port ? merged : null };
    });
  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      setPrefs(await counterApi.savePreferences(prefs));
      setSaved(true);
    } catch (err) {
      setError(toCommandError(err));
    }
  };
  // A port typed in or saved earlier stays choosable even when it is not listed right now.
  const portChoices = ports.some((p) => p.path === scanner.port) || !scanner.port
    ? ports
    : [{ path: scanner.port, description: null }, ...ports];

  return (
    <section class="panel" aria-labelledby="settings-title">
      <h2 id="settings-title">{t.settingsTitle}</h2>
      <form class="form" onSubmit={save}>
        <label>
          {t.settingsServer}
          <input
            data-testid="settings-server"
            value={prefs.server_url ?? ''}
            placeholder="http://127.0.0.1:8080"
            onInput={(e) => {
              const value = e.currentTarget.value.trim() || null;
              update(() => ({ server_url: value }));
            }}
          />
        </label>
        <label>
          {t.settingsScannerPort}
          <select
            data-testid="settings-port"
            value={scanner.port}
            onChange={(e) => updateScanner({ port: e.currentTarget.value })}
          >
            <option value="">{t.settingsScannerNone}</option>
            {portChoices.map((p) => (
              <option key={p.path} value={p.path}>
                {p.description ? `${p.path} — ${p.description}` : p.path}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t.settingsBaud}
          <select
            data-testid="settings-baud"
            value={String(scanner.baud_rate)}
            onChange={(e) => updateScanner({ baud_rate: Number(e.currentTarget.value) })}
          >
            {BAUD_RATES.map((b) => (
              <option key={b} value={String(b)}>
                {b}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t.settingsLineEnding}
          <select
            data-testid="settings-ending"
            value={scanner.line_ending}
            onChange={(e) => updateScanner({ line_ending: e.currentTarget.value as LineEnding })}
          >
            {ENDINGS.map((end) => (
              <option key={end} value={end}>
                {end === 'auto' ? t.settingsLineAuto : end.toUpperCase()}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t.settingsPrintServer}
          <input
            data-testid="settings-print-server"
            value={prefs.printer.server}
            onInput={(e) => {
              const server = e.currentTarget.value;
              update((p) => ({ printer: { ...p.printer, server } }));
            }}
          />
        </label>
        <label>
          {t.settingsPrinter}
          <select
            data-testid="settings-printer"
            value={prefs.printer.printer ?? ''}
            onChange={(e) => {
              const printer = e.currentTarget.value || null;
              update((p) => ({ printer: { ...p.printer, printer } }));
            }}
          >
            <option value="">{t.settingsPrinterDefault}</option>
            {printers.map((p) => (
              <option key={p.name} value={p.name}>
                {p.info ? `${p.name} — ${p.info}` : p.name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="btn btn-primary" data-testid="settings-save">
          {t.settingsSave}
        </button>
      </form>
      {saved && (
        <p class="ok" role="status" data-testid="settings-saved">
          {t.settingsSaved}
        </p>
      )}
      {error && <ErrorLine error={error} testId="settings-error" />}
    </section>
  );
}
