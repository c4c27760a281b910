import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { toCommandError, type CommandError } from '../api';
import { fill } from '../i18n';
import { useMessages } from '../i18n-context';
import { StatusPanel } from '../StatusPanel';
import {
  counterApi,
  EVENTS,
  onEvent,
  type CounterState,
  type Opened,
  type PlateFound,
  type ScannerEvent,
  type SyncEvent,
} from './api';
import { AssetView } from './AssetView';
import { CalendarView } from './CalendarView';
import { ConflictsView } from './ConflictsView';
import { Dashboard } from './Dashboard';
import { ErrorLine } from './ErrorLine';
import { OpenedView } from './OpenedView';
import { SettingsPanel } from './SettingsPanel';
import { SyncBanner } from './SyncBanner';
import { useKeyboardWedge } from './useKeyboardWedge';

type Tab = 'today' | 'assets' | 'calendar' | 'conflicts' | 'settings' | 'server';
type Found = { kind: 'opened'; opened: Opened } | { kind: 'plate'; found: PlateFound };

/** Errors that mean "no server now": a screen from the copy then stands. */
const OFFLINE_CODES = ['server_unreachable', 'server_error', 'not_signed_in', 'session_ended'];

/** How long a start from the copy waits before asking for its first round. */
const FIRST_ROUND_DELAY_MS = 1000;

/** Codes start like this; anything else typed in the scan box is a plate. */
function looksLikeCode(text: string): boolean {
  return /^(SR\d|https?:\/\/)/i.test(text.trim());
}

/** The signed-in counter: banner, scan box, tabs, and what a scan opened. */
export function CounterApp({
  state,
  onState,
}: {
  state: CounterState;
  onState: (state: CounterState) => void;
}) {
  const t = useMessages();
  const [tab, setTab] = useState<Tab>('today');
  const [found, setFound] = useState<Found | null>(null);
  const [scanError, setScanError] = useState<CommandError | null>(null);
  const [sync, setSync] = useState<SyncEvent | null>(null);
  const [scanner, setScanner] = useState<ScannerEvent | null>(null);
  const [refresh, setRefresh] = useState(0);
  const [text, setText] = useState('');
  // Whether this screen opened on a kept session being renewed (read once, at mount).
  const startedFromCopy = useRef(state.renewing);

  const show = useCallback((next: Found) => {
    setScanError(null);
    setFound(next);
    setTab('assets');
  }, []);
  // The server ended the session (the app closed the copy, and App re-reads the state for the
  // login screen): nothing to say at the scan box.
  const endedElsewhere = useCallback((e: unknown) => toCommandError(e).code === 'session_ended', []);
  // A scan that is not understood is said where the scan box is; the screen and tab stay.
  const fail = useCallback(
    (e: unknown) => {
      if (!endedElsewhere(e)) setScanError(toCommandError(e));
    },
    [endedElsewhere],
  );
  // Only the latest typed scan may change the screen (an older, slower answer is dropped).
  const latest = useRef(0);

  const lookUp = useCallback(
    (input: string) => {
      const value = input.trim();
      if (!value) return;
      const mine = ++latest.current;
      const current = () => mine === latest.current;
      const refused = (e: unknown) => {
        if (current()) {
          setFound(null);
          fail(e);
        }
      };
      if (looksLikeCode(value)) {
        counterApi.scanText(value).then((opened) => {
          if (!current()) return;
          show({ kind: 'opened', opened });
          // From the copy: the server checks the code's signature when it answers.
          if ('offline' in opened && opened.offline) {
            counterApi.confirmScan(value).then(
              (checked) => current() && show({ kind: 'opened', opened: checked }),
              (e) => {
                if (endedElsewhere(e)) return;
                if (!OFFLINE_CODES.includes(toCommandError(e).code)) refused(e);
              },
            );
          }
        }, refused);
      } else {
        counterApi.findPlate(value).then((f) => current() && show({ kind: 'plate', found: f }), refused);
      }
    },
    [show, fail, endedElsewhere],
  );
  useKeyboardWedge(lookUp);

  useEffect(() => {
    const subscriptions = [
      onEvent<SyncEvent>(EVENTS.sync, (e) => {
        setSync(e);
        // After a round, and when syncing stopped for good (session ended, PC revoked): the
        // state decides what is shown (the login screen once the session is gone).
        if (e.event === 'synced' || (e.event === 'offline' && e.retry_in_secs === 0)) {
          if (e.event === 'synced') setRefresh((n) => n + 1);
          counterApi.appState().then(onState, () => {});
        }
      }),
      onEvent<Opened>(EVENTS.opened, (opened) => show({ kind: 'opened', opened })),
      onEvent<CommandError>(EVENTS.scanError, (e) => fail(e)),
      // `null`: the scanner was stopped (its port cleared in the settings).
      onEvent<ScannerEvent | null>(EVENTS.scanner, setScanner),
    ];
    // The scanner may have connected, and a round may have ended, before this screen listened:
    // ask for the scanner's state, and for a round now that its end will be heard. Started
    // from the copy (a kept session being renewed), the round waits a second: the day is on
    // screen already, and the first paint gets the two cores to itself.
    counterApi.scannerStatus().then((s) => s && setScanner(s), () => {});
    let later: ReturnType<typeof setTimeout> | undefined;
    const askForRound = () => counterApi.syncNow().catch(() => {});
    Promise.all(subscriptions).then(() => {
      if (startedFromCopy.current) later = setTimeout(askForRound, FIRST_ROUND_DELAY_MS);
      else askForRound();
    }, () => {});
    return () => {
      clearTimeout(later);
      for (const subscription of subscriptions) {
        // Unsubscribing can fail only when the app is going away: nothing left to do then.
        subscription.then((unlisten) => unlisten()).catch(() => {});
      }
    };
  }, [onState, show, fail]);

  // Pending and conflict counts in the banner follow local changes at once (offline too).
  const refreshState = useCallback(() => {
    counterApi.appState().then(onState, () => {});
  }, [onState]);

  const tabs: [Tab, string][] = [
    ['today', t.navToday],
    ['assets', t.navAssets],
    ['calendar', t.navCalendar],
    // Conflicts get a tab while there are any (and while it is open).
    ...(state.unsettled > 0 || tab === 'conflicts'
      ? ([['conflicts', fill(t.navConflicts, { n: state.unsettled })]] as [Tab, string][])
      : []),
    ['settings', t.navSettings],
    ['server', t.navServer],
  ];
  // This month at the branch (not in UTC: the 1st starts at 00:00 WIB, WITA or WIT).
  const month = new Intl.DateTimeFormat('en-CA', {
    timeZone: state.branch?.time_zone ?? 'Asia/Jakarta',
    year: 'numeric',
    month: '2-digit',
  })
    .format(new Date())
    .slice(0, 7);

  return (
    <>
      <SyncBanner
        state={state}
        lastEvent={sync}
        onSyncNow={() => {
          counterApi.syncNow().catch(() => {});
        }}
        onShowConflicts={() => setTab('conflicts')}
      />
      <form
        class="scan-box"
        onSubmit={(e) => {
          e.preventDefault();
          lookUp(text);
          setText('');
        }}
      >
        <label>
          {t.scanLabel}
          <input
            data-testid="scan-input"
            data-scan-box
            autoFocus
            value={text}
            placeholder={t.scanPlaceholder}
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="btn btn-primary" data-testid="scan-open">
          {t.scanOpen}
        </button>
        {scanner && (
          <span class={`scanner-state ${scanner.event}`} data-testid="scanner-state" title={scanner.port}>
            {scanner.event === 'connected' ? t.scannerConnected : t.scannerDisconnected}
          </span>
        )}
      </form>
      {scanError && <ErrorLine error={scanError} testId="scan-error" />}
      <nav class="tabs" role="tablist">
        {tabs.map(([id, label]) => (
          <button
            key={id}
            type="button"
            role="tab"
            class={`tab${tab === id ? ' active' : ''}`}
            aria-selected={tab === id}
            data-testid={`tab-${id}`}
            onClick={() => setTab(id)}
          >
            {label}
          </button>
        ))}
      </nav>
      {tab === 'today' && <Dashboard refresh={refresh} onPlate={lookUp} />}
      {tab === 'assets' && (
        <>
          {found?.kind === 'opened' && <OpenedView opened={found.opened} onChanged={refreshState} />}
          {found?.kind === 'plate' && (
            <AssetView
              key={found.found.asset.id}
              asset={found.found.asset}
              offline={null}
              bookings={found.found.bookings}
              onChanged={refreshState}
            />
          )}
        </>
      )}
      {tab === 'calendar' && <CalendarView month={month} />}
      {tab === 'conflicts' && <ConflictsView onChanged={refreshState} />}
      {tab === 'settings' && <SettingsPanel />}
      {tab === 'server' && <StatusPanel />}
    </>
  );
}
