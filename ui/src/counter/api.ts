/**
 * Typed wrappers around the counter's Tauri commands and events. Components
 * import from here and never call `invoke` or `listen` themselves. Field
 * names are the Rust ones (snake_case).
 */
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import { toCommandError } from '../api';

export interface Branch {
  id: string;
  code: string;
  name: string;
  time_zone: string;
}

export interface Me {
  id: string;
  kind: string;
  role: string;
  branches: string[];
}

export interface SignedIn {
  email: string;
  me: Me;
  branch: string;
  remembered: boolean;
}

export interface CounterState {
  signed_in: SignedIn | null;
  /** A kept session the server did not answer for: working from the copy. */
  offline_session: boolean;
  /** A kept session being renewed: the copy is shown meanwhile. */
  renewing: boolean;
  /** Whose kept session it is, until it is renewed. */
  kept_email: string | null;
  branch: Branch | null;
  login_reason: string | null;
  keychain_problem: string | null;
  pending: number;
  unsettled: number;
}

/** Nobody signed in (also what a failed `app_state` leads to: the login screen). */
export const SIGNED_OUT: CounterState = {
  signed_in: null,
  offline_session: false,
  renewing: false,
  kept_email: null,
  branch: null,
  login_reason: null,
  keychain_problem: null,
  pending: 0,
  unsettled: 0,
};

export interface Booking {
  id: string;
  asset_id: string;
  customer_id: string | null;
  kind: string;
  start: string;
  end: string;
  status: string;
  total_idr: number;
}

export interface CounterCustomer {
  id: string;
  full_name: string;
  membership_tier: string;
  kyc_status: string;
  nik_masked: string | null;
}

export interface DayEntry {
  booking: Booking;
  customer: CounterCustomer | null;
  plate: string | null;
}

export interface CounterDay {
  date: string;
  pickups: DayEntry[];
  returns: DayEntry[];
  overdue: DayEntry[];
}

export interface Asset {
  id: string;
  sku_code: string;
  sku_name: string;
  home_branch_code: string;
  plate_or_serial: string;
  status: string;
  odometer_km: number | null;
  label_version: number;
}

export interface PlateFound {
  asset: Asset;
  bookings: { booking: Booking; customer: CounterCustomer | null }[];
}

export type Opened =
  | { screen: 'booking'; booking: Booking; customer: CounterCustomer | null; offline: boolean }
  | { screen: 'asset'; asset: Asset; offline: boolean }
  | { screen: 'verify'; hash: string };

export interface CalendarDay {
  date: string;
  free_units: number;
  total_units: number;
  state: 'free' | 'partly_free' | 'sold_out';
}

export interface SkuCalendar {
  sku: string;
  month: string;
  branch: string | null;
  days: CalendarDay[];
}

export interface WaitlistEntry {
  id: string;
  sku: string;
  branch_id: string | null;
  customer_id: string;
  start: string;
  end: string;
  status: 'WAITING' | 'OFFERED' | string;
  position: number | null;
  offer_booking_id: string | null;
}

export interface WaitlistQueue {
  sku: string;
  items: WaitlistEntry[];
}

export type LineEnding = 'auto' | 'cr' | 'lf' | 'crlf';

export interface ScannerSettings {
  port: string;
  baud_rate: number;
  line_ending: LineEnding;
}

export interface PrinterSettings {
  server: string;
  printer: string | null;
}

export interface Preferences {
  language: 'id' | 'en';
  server_url: string | null;
  scanner: ScannerSettings | null;
  printer: PrinterSettings;
  last_branch: Branch | null;
}

export interface PrinterInfo {
  name: string;
  info: string | null;
  state: 'idle' | 'printing' | 'stopped';
  accepting_jobs: boolean;
}

export interface PortChoice {
  path: string;
  description: string | null;
}

export type JobStatus =
  | 'waiting'
  | 'held'
  | 'printing'
  | 'stopped'
  | 'completed'
  | 'canceled'
  | 'aborted';

/** What staff did on this PC, as queued for the server. */
export type PushAction =
  | { kind: 'confirm_booking'; booking_id: string; hold_token: string }
  | { kind: 'cancel_booking'; booking_id: string }
  | {
      kind: 'update_asset';
      asset_id: string;
      seen_status: string;
      seen_odometer_km: number | null;
      status?: string;
      odometer_km?: number;
    };

/** A change the server did not take: a conflict (may be sent again) or a rejection. */
export interface Unsettled {
  op_id: string;
  action: PushAction;
  result: {
    op_id: string;
    outcome: 'conflict' | 'rejected';
    code?: string;
    message?: string;
    booking?: Booking;
    asset?: Asset;
    replayed: boolean;
  };
  received_at: string;
  can_send_again: boolean;
}

export type Resolution = 'keep_server' | 'send_again';

/** The print preview of a label (an SVG drawn from the same page as the PDF). */
export interface LabelPreview {
  plate: string;
  svg: string;
  /** `null`: the print server's default printer. */
  printer: string | null;
  label_version: number;
}

export interface Printed {
  job_id: number;
  status: JobStatus;
}

export type SyncEvent =
  | { event: 'started' }
  | { event: 'pulling'; pages: number; records: number; first_copy: boolean }
  | { event: 'synced'; pushed: number; pulled: number; pending: number; unsettled: number }
  | { event: 'offline'; code: string; message: string; retry_in_secs: number };

export type ScannerEvent =
  | { event: 'connected'; port: string }
  | { event: 'disconnected'; port: string; reason: string };

/** Said on `window` when a command found the session ended by the server (the app closed the
 * branch copy): the app re-reads its state and shows the login screen. */
export const SESSION_ENDED_EVENT = 'sentra-session-ended';

/** Invoke a command; rejections are always normalised to `{code, message}`. */
async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    const error = toCommandError(e);
    if (error.code === 'session_ended') window.dispatchEvent(new Event(SESSION_ENDED_EVENT));
    throw error;
  }
}

export const counterApi = {
  appState: () => call<CounterState>('app_state'),
  branches: () => call<Branch[]>('branches'),
  login: (email: string, password: string, branch: string | null) =>
    call<CounterState>('login', { email, password, branch }),
  logout: () => call<CounterState>('logout'),
  counterDay: () => call<CounterDay>('counter_day'),
  findPlate: (plate: string) => call<PlateFound>('find_plate', { plate }),
  scanText: (text: string) => call<Opened>('scan_text', { text }),
  confirmScan: (text: string) => call<Opened>('confirm_scan', { text }),
  syncNow: () => call<void>('sync_now'),
  recordOdometer: (asset_id: string, odometer_km: number) =>
    call<void>('record_odometer', { asset_id, odometer_km }),
  unsettledChanges: () => call<Unsettled[]>('unsettled_changes'),
  resolveUnsettled: (op_id: string, resolution: Resolution) =>
    call<void>('resolve_unsettled', { op_id, resolution }),
  skuCalendar: (sku: string, month: string) => call<SkuCalendar>('sku_calendar', { sku, month }),
  skuWaitlist: (sku: string) => call<WaitlistQueue>('sku_waitlist', { sku }),
  labelPreview: (asset_id: string) => call<LabelPreview>('label_preview', { asset_id }),
  /** Prints the label as previewed: a label reissued since (`label_version`) is refused. */
  printLabel: (asset_id: string, label_version: number) =>
    call<Printed>('print_label', { asset_id, label_version }),
  saveLabel: (asset_id: string, path: string) => call<void>('save_label', { asset_id, path }),
  printers: () => call<PrinterInfo[]>('printers'),
  serialPorts: () => call<PortChoice[]>('serial_ports'),
  scannerStatus: () => call<ScannerEvent | null>('scanner_status'),
  preferences: () => call<Preferences>('preferences'),
  savePreferences: (preferences: Preferences) =>
    call<Preferences>('save_preferences', { preferences }),
};

/** Subscribe to a backend event; returns the unsubscribe function. */
export function onEvent<T>(name: string, handler: (payload: T) => void): Promise<UnlistenFn> {
  return listen<T>(name, (e) => handler(e.payload));
}

export const EVENTS = {
  sync: 'sync',
  scanner: 'scanner',
  opened: 'opened',
  scanError: 'scan-error',
  print: 'print',
} as const;

/** What the app put in the page before it loaded (see `src-tauri/first_screen.rs`). */
interface FirstScreen {
  state?: CounterState;
  day?: CounterDay | null;
}

declare global {
  interface Window {
    __SENTRA_FIRST__?: FirstScreen;
  }
}

/**
 * Takes one part of the first screen's data, once: the first render shows it without a round
 * trip, and later renders ask the app (what was injected at start goes stale).
 */
export function takeFirst<K extends keyof FirstScreen>(key: K): FirstScreen[K] | undefined {
  const first = window.__SENTRA_FIRST__;
  if (!first) return undefined;
  const value = first[key];
  delete first[key];
  return value;
}

/** Whether staff work with the branch now (signed in, or from the copy with a kept session). */
export function isWorking(state: CounterState): boolean {
  return state.signed_in !== null || (state.kept_email !== null && state.branch !== null);
}
