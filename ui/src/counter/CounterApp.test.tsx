import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../App';
import { SIGNED_OUT } from '../fixtures';
import { mount, textOf, waitFor } from '../test-utils';
import type { CounterDay, CounterState, Opened, Preferences, Unsettled } from './api';

const SIGNED_IN: CounterState = {
  ...SIGNED_OUT,
  signed_in: {
    email: 'admin.jkt@demo.sentrarental.id',
    me: { id: 'u1', kind: 'staff', role: 'branch_admin', branches: ['b1'] },
    branch: 'b1',
    remembered: true,
  },
  branch: { id: 'b1', code: 'JKT01', name: 'Jakarta Pusat', time_zone: 'Asia/Jakarta' },
  pending: 2,
};

const booking = (id: string, start: string, end: string, status: string) => ({
  id,
  asset_id: `asset-${id}`,
  customer_id: 'c1',
  kind: 'RENTAL',
  start,
  end,
  status,
  total_idr: 1_250_000,
});
const customer = {
  id: 'c1',
  full_name: 'Siti Rahayu',
  membership_tier: 'gold',
  kyc_status: 'verified',
  nik_masked: '************0001',
};
const DAY: CounterDay = {
  date: '2026-12-02',
  pickups: [{ booking: booking('p1', '2026-12-02', '2026-12-05', 'CONFIRMED'), customer, plate: 'B 1234 XYZ' }],
  returns: [],
  overdue: [{ booking: booking('o1', '2026-11-27', '2026-11-30', 'ACTIVE'), customer, plate: 'B 2701 SRT' }],
};
const ASSET = {
  id: 'a1',
  sku_code: 'AVANZA-13G-AT',
  sku_name: 'Toyota Avanza 1.3 G AT',
  home_branch_code: 'JKT01',
  plate_or_serial: 'B 1234 XYZ',
  status: 'maintenance',
  odometer_km: 12000,
  label_version: 1,
};
const PREFS: Preferences = {
  language: 'id',
  server_url: null,
  scanner: null,
  printer: { server: 'http://127.0.0.1:631', printer: null },
  last_branch: null,
};

type Call = { cmd: string; args: Record<string, unknown> | undefined };
let calls: Call[] = [];
let app: ReturnType<typeof mount> | undefined;

/** Mocks every command; `overrides` replace single answers (a function gets the args). */
function backend(start: CounterState, overrides: Record<string, unknown> = {}) {
  calls = [];
  const answers: Record<string, unknown> = {
    app_state: start,
    branches: [SIGNED_IN.branch],
    login: SIGNED_IN,
    logout: SIGNED_OUT,
    counter_day: DAY,
    find_plate: { asset: ASSET, bookings: [] },
    label_preview: {
      plate: 'B 1234 XYZ',
      svg: '<svg xmlns="http://www.w3.org/2000/svg" width="50mm" height="30mm"><text>B 1234 XYZ</text></svg>',
      printer: 'Label_Printer',
      label_version: 1,
    },
    print_label: { job_id: 7, status: 'completed' },
    sync_now: null,
    confirm_scan: { screen: 'asset', asset: ASSET, offline: false } satisfies Opened,
    scanner_status: { event: 'connected', port: '/dev/ttyACM0' },
    preferences: PREFS,
    serial_ports: [{ path: '/dev/ttyACM0', description: 'Honeywell Xenon 1900' }],
    printers: [{ name: 'Label_Printer', info: null, state: 'idle', accepting_jobs: true }],
    save_preferences: (args: { preferences: Preferences }) => args.preferences,
    ...overrides,
  };
  mockIPC(
    (cmd, args) => {
      calls.push({ cmd, args: args as Record<string, unknown> | undefined });
      if (!(cmd in answers)) throw { code: 'unknown_command', message: cmd };
      const answer = answers[cmd];
      return typeof answer === 'function' ? answer(args) : answer;
    },
    { shouldMockEvents: true },
  );
}

const called = (cmd: string) => calls.filter((c) => c.cmd === cmd);

/** Lets Preact render what the last event changed, as it would between two keystrokes. */
const settle = () => new Promise((r) => setTimeout(r, 0));

async function type(input: HTMLInputElement, value: string) {
  input.value = value;
  input.dispatchEvent(new Event('input', { bubbles: true }));
  await settle();
}

/**
 * The counter is on screen and listening: today's list was asked for, and the first round was
 * (which the screen asks for once its event listeners are registered).
 */
async function counterReady() {
  await waitFor(() => called('counter_day').length > 0 && called('sync_now').length > 0);
  await settle();
}

beforeEach(() => localStorage.clear());
afterEach(() => {
  app?.unmount();
  app = undefined;
  clearMocks();
});

describe('login', () => {
  it('logs in with the e-mail and password and shows the branch and today', async () => {
    backend(SIGNED_OUT);
    app = mount(<App />);
    const { byTestId, container } = app;
    await waitFor(() => byTestId('login-email'));
    await type(byTestId('login-email') as HTMLInputElement, ' admin.jkt@demo.sentrarental.id ');
    await type(byTestId('login-password') as HTMLInputElement, 'demo-jkt-2026');
    (byTestId('login-submit') as HTMLButtonElement).click();

    await waitFor(() => byTestId('branch-name'));
    expect(called('login')[0]!.args).toMatchObject({
      email: 'admin.jkt@demo.sentrarental.id',
      password: 'demo-jkt-2026',
      branch: null,
    });
    expect(textOf(container, 'branch-name')).toBe('JKT01 — Jakarta Pusat');
    await waitFor(() => byTestId('pickups-row'));
    const pickup = byTestId('pickups-row')!.textContent!;
    expect(pickup).toContain('B 1234 XYZ');
    expect(pickup).toContain('Siti Rahayu');
    expect(pickup).toContain('Rp 1.250.000');
    expect(pickup).toContain('2 Des 2026');
    expect(byTestId('overdue-row')!.textContent).toContain('2 hari terlambat');
    expect(textOf(container, 'pending-count')).toBe('2 perubahan menunggu dikirim');
  });

  it('says the password is wrong and clears it', async () => {
    backend(SIGNED_OUT, {
      login: () => Promise.reject({ code: 'unauthorized', message: 'The login or the password is wrong' }),
    });
    app = mount(<App />);
    const { byTestId, container } = app;
    await waitFor(() => byTestId('login-email'));
    await type(byTestId('login-email') as HTMLInputElement, 'admin.jkt@demo.sentrarental.id');
    await type(byTestId('login-password') as HTMLInputElement, 'salah');
    (byTestId('login-submit') as HTMLButtonElement).click();
    await waitFor(() => byTestId('login-error'));
    expect(textOf(container, 'login-error')).toContain('E-mail atau kata sandi salah.');
    expect((byTestId('login-password') as HTMLInputElement).value).toBe('');
  });

  it('tells staff when the keychain cannot keep their session', async () => {
    backend({ ...SIGNED_OUT, keychain_problem: 'no Secret Service', login_reason: 'session_ended' });
    app = mount(<App />);
    await waitFor(() => app!.byTestId('keychain-problem'));
    expect(textOf(app.container, 'keychain-problem')).toContain('masuk setiap kali');
    expect(textOf(app.container, 'login-reason')).toContain('Sesi Anda telah berakhir');
  });
});

describe('changes made at the counter', () => {
  const conflict: Unsettled = {
    op_id: 'op-1',
    action: { kind: 'update_asset', asset_id: 'a1', seen_status: 'active', seen_odometer_km: 12000, odometer_km: 12400 },
    result: {
      op_id: 'op-1',
      outcome: 'conflict',
      code: 'stale_record',
      message: 'the asset changed meanwhile',
      asset: { ...ASSET, status: 'active', odometer_km: 12100 },
      replayed: false,
    },
    received_at: '2026-12-02 03:00:00',
    can_send_again: true,
  };
  const rejected: Unsettled = {
    op_id: 'op-2',
    action: { kind: 'cancel_booking', booking_id: 'b7b7b7b7-0000-0000-0000-000000000000' },
    result: { op_id: 'op-2', outcome: 'rejected', code: 'not_found', message: 'no such booking', replayed: false },
    received_at: '2026-12-02 03:00:01',
    can_send_again: false,
  };

  it('records an odometer reading at once, and the pending count follows', async () => {
    let pending = 2;
    backend(SIGNED_IN, {
      app_state: () => ({ ...SIGNED_IN, pending }),
      record_odometer: () => {
        pending += 1;
        return null;
      },
    });
    app = mount(<App />);
    const { byTestId, container } = app;
    await counterReady();
    await type(byTestId('scan-input') as HTMLInputElement, 'B 1234 XYZ');
    (byTestId('scan-open') as HTMLButtonElement).click();
    await waitFor(() => byTestId('odometer-input'));
    expect((byTestId('odometer-save') as HTMLButtonElement).disabled).toBe(true);
    await type(byTestId('odometer-input') as HTMLInputElement, '12.500');
    const rounds = called('sync_now').length;
    (byTestId('odometer-save') as HTMLButtonElement).click();
    await waitFor(() => byTestId('label-done'));
    expect(called('record_odometer')[0]!.args).toMatchObject({ asset_id: 'a1', odometer_km: 12500 });
    expect(textOf(container, 'asset-odometer')).toBe('12.500 km');
    await waitFor(() => textOf(container, 'pending-count') === '3 perubahan menunggu dikirim');
    expect(called('sync_now').length).toBe(rounds + 1);
  });

  it('shows what the server did not take, and staff keep its record or send theirs again', async () => {
    let waiting = [conflict, rejected];
    backend(
      { ...SIGNED_IN, unsettled: 2 },
      {
        unsettled_changes: () => waiting,
        resolve_unsettled: (args: { op_id: string }) => {
          waiting = waiting.filter((w) => w.op_id !== args.op_id);
          return null;
        },
      },
    );
    app = mount(<App />);
    const { byTestId, container } = app;
    await counterReady();
    (byTestId('unsettled-count') as HTMLButtonElement).click();
    await waitFor(() => container.querySelectorAll('[data-testid=conflict]').length === 2);
    const [first, second] = [...container.querySelectorAll<HTMLElement>('[data-testid=conflict]')];
    expect(first!.querySelector('[data-testid=conflict-what]')!.textContent).toBe('Odometer B 1234 XYZ: 12.400 km');
    expect(first!.querySelector('[data-testid=conflict-why]')!.textContent).toContain('diubah di tempat lain');
    expect(first!.querySelector('[data-testid=conflict-now]')!.textContent).toBe('Di server sekarang: 12.100 km, Aktif');
    expect(second!.querySelector('[data-testid=conflict-what]')!.textContent).toBe('Pembatalan pemesanan b7b7b7b7');
    expect(second!.querySelector('[data-testid=conflict-why]')!.textContent).toContain(
      'Tidak ditemukan. Perubahan ini tidak dapat dikirim ulang.',
    );
    expect(second!.querySelector('[data-testid=send-again]')).toBeNull();

    const rounds = called('sync_now').length;
    (first!.querySelector('[data-testid=send-again]') as HTMLButtonElement).click();
    await waitFor(() => container.querySelectorAll('[data-testid=conflict]').length === 1);
    expect(called('resolve_unsettled')[0]!.args).toMatchObject({ op_id: 'op-1', resolution: 'send_again' });
    expect(called('sync_now').length).toBe(rounds + 1);
    (byTestId('keep-server') as HTMLButtonElement).click();
    await waitFor(() => container.querySelectorAll('[data-testid=conflict]').length === 0);
    expect(called('resolve_unsettled')[1]!.args).toMatchObject({ op_id: 'op-2', resolution: 'keep_server' });
    expect(textOf(container, 'conflicts-view')).toContain('Tidak ada konflik.');
  });
});

describe('a session ended by the server', () => {
  it('shows the login screen when any command finds it, with the reason', async () => {
    let now: CounterState = SIGNED_IN;
    backend(SIGNED_IN, {
      app_state: () => now,
      find_plate: () => {
        now = { ...SIGNED_OUT, login_reason: 'session_ended' };
        return Promise.reject({ code: 'session_ended', message: 'log in again' });
      },
    });
    app = mount(<App />);
    const { byTestId, container } = app;
    await counterReady();
    await type(byTestId('scan-input') as HTMLInputElement, 'B 1234 XYZ');
    (byTestId('scan-open') as HTMLButtonElement).click();
    await waitFor(() => byTestId('login-email'));
    expect(textOf(container, 'login-reason')).toContain('Sesi Anda telah berakhir');
    expect(byTestId('pickups')).toBeNull();
  });
});

describe('the start', () => {
  afterEach(() => {
    delete window.__SENTRA_FIRST__;
  });

  it('draws the day the app put in the page without asking, and asks for a round a second later', async () => {
    // The app's answers never come: what is on screen can only be what was in the page.
    const never = () => new Promise(() => {});
    backend(SIGNED_IN, { app_state: never, counter_day: never });
    window.__SENTRA_FIRST__ = { state: { ...SIGNED_IN, signed_in: null, renewing: true, kept_email: 'admin.jkt@demo.sentrarental.id' }, day: DAY };
    app = mount(<App />);
    expect(app.byTestId('starting')).toBeNull();
    expect(app.byTestId('pickups-row')!.textContent).toContain('B 1234 XYZ');
    expect(textOf(app.container, 'who')).toBe('admin.jkt@demo.sentrarental.id');
    // Being renewed is not being offline.
    expect(app.byTestId('offline-banner')).toBeNull();
    expect(window.__SENTRA_FIRST__).toEqual({}); // taken, once
    // Nothing is asked at start: the first paint has the machine to itself...
    await new Promise((r) => setTimeout(r, 100));
    expect(called('app_state')).toHaveLength(0);
    expect(called('counter_day')).toHaveLength(0);
    expect(called('sync_now')).toHaveLength(0);
    // ...and the first round (which renews the session and refreshes both) comes after it.
    await waitFor(() => called('sync_now').length === 1, { timeoutMs: 3000 });
  });

  it('says so when the kept session could not be renewed because the server is away', async () => {
    backend({ ...SIGNED_IN, signed_in: null, offline_session: true, kept_email: 'admin.jkt@demo.sentrarental.id' });
    app = mount(<App />);
    await counterReady();
    expect(textOf(app.container, 'who')).toBe('admin.jkt@demo.sentrarental.id');
    expect(app.byTestId('offline-banner')).not.toBeNull();
    expect(app.byTestId('pickups-row')!.textContent).toContain('B 1234 XYZ');
  });
});

describe('the counter', () => {
  it('opens what the serial scanner read, from the offline copy', async () => {
    backend(SIGNED_IN);
    app = mount(<App />);
    await counterReady();
    // Connected before the screen opened: the screen still knows.
    await waitFor(() => textOf(app!.container, 'scanner-state') === 'Pemindai tersambung');
    const opened: Opened = {
      screen: 'booking',
      booking: booking('b9', '2026-12-02', '2026-12-04', 'CONFIRMED'),
      customer,
      offline: true,
    };
    await emit('opened', opened);
    await waitFor(() => app!.byTestId('booking-view'));
    expect(textOf(app.container, 'booking-customer')).toBe('Siti Rahayu');
    expect(textOf(app.container, 'booking-status')).toBe('Terkonfirmasi');
    expect(textOf(app.container, 'booking-source')).toContain('salinan luring');
    expect(textOf(app.container, 'booking-kyc')).toBe('Terverifikasi');

    await emit('scan-error', { code: 'scan_not_text', message: 'noise' });
    await waitFor(() => app!.byTestId('scan-error'));
    expect(textOf(app.container, 'scan-error')).toContain('periksa baud rate');
    await emit('scanner', { event: 'disconnected', port: '/dev/ttyACM0', reason: 'unplugged' });
    await waitFor(() => textOf(app!.container, 'scanner-state')?.includes('terputus'));
    // Its port cleared in the settings: no indicator rather than a stale one.
    await emit('scanner', null);
    await waitFor(() => app!.byTestId('scanner-state') === null);
  });

  it('takes a scan typed into another field out of it again', async () => {
    backend(SIGNED_IN, {
      scan_text: { screen: 'asset', asset: ASSET, offline: true } satisfies Opened,
    });
    app = mount(<App />);
    const { byTestId } = app;
    await counterReady();
    await type(byTestId('scan-input') as HTMLInputElement, 'B 1234 XYZ');
    (byTestId('scan-open') as HTMLButtonElement).click();
    await waitFor(() => byTestId('odometer-input'));
    const field = byTestId('odometer-input') as HTMLInputElement;
    await type(field, '12');
    // The scanner types into the focused odometer field (a key lands after its keydown).
    for (const key of [...'SR1:A:ABC:1:XYZ', 'Enter']) {
      field.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }));
      if (key !== 'Enter') field.value += key;
    }
    await waitFor(() => called('scan_text').length === 1);
    expect(called('scan_text')[0]!.args).toMatchObject({ text: 'SR1:A:ABC:1:XYZ' });
    expect(field.value).toBe('12');
  });

  it('takes a keyboard-wedge scan typed outside any field', async () => {
    backend(SIGNED_IN, {
      scan_text: { screen: 'asset', asset: ASSET, offline: true } satisfies Opened,
    });
    app = mount(<App />);
    await counterReady();
    (document.activeElement as HTMLElement | null)?.blur();
    for (const key of [...'SR1:A:ABC:1:XYZ', 'Enter']) {
      window.dispatchEvent(new KeyboardEvent('keydown', { key }));
    }
    await waitFor(() => app!.byTestId('asset-view'));
    expect(called('scan_text')[0]!.args).toMatchObject({ text: 'SR1:A:ABC:1:XYZ' });
    expect(textOf(app.container, 'asset-plate')).toBe('B 1234 XYZ');
    // Shown from the copy at once, then checked by the server.
    await waitFor(() => textOf(app!.container, 'asset-source') === 'Dicek oleh server');
  });

  it('refuses a typed code the server finds forged, though the copy had opened it', async () => {
    backend(SIGNED_IN, {
      scan_text: { screen: 'asset', asset: ASSET, offline: true } satisfies Opened,
      confirm_scan: () => Promise.reject({ code: 'invalid_label', message: 'forged' }),
    });
    app = mount(<App />);
    const { byTestId, container } = app;
    await counterReady();
    await type(byTestId('scan-input') as HTMLInputElement, 'SR1:A:FORGED:1:XYZ');
    (byTestId('scan-open') as HTMLButtonElement).click();
    await waitFor(() => byTestId('scan-error'));
    expect(textOf(container, 'scan-error')).toContain('sudah diganti');
    expect(byTestId('asset-view')).toBeNull();
    expect(called('confirm_scan')[0]!.args).toMatchObject({ text: 'SR1:A:FORGED:1:XYZ' });
  });

  it('keeps the copy\'s answer when the server cannot be reached', async () => {
    backend(SIGNED_IN, {
      scan_text: { screen: 'asset', asset: ASSET, offline: true } satisfies Opened,
      confirm_scan: () => Promise.reject({ code: 'server_unreachable', message: 'down' }),
    });
    app = mount(<App />);
    const { byTestId, container } = app;
    await counterReady();
    await type(byTestId('scan-input') as HTMLInputElement, 'SR1:A:OK:1:XYZ');
    (byTestId('scan-open') as HTMLButtonElement).click();
    await waitFor(() => called('confirm_scan').length === 1);
    await settle();
    expect(textOf(container, 'asset-source')).toContain('salinan luring');
    expect(byTestId('scan-error')).toBeNull();
  });

  it('finds a plate typed in the scan box and prints its label', async () => {
    backend(SIGNED_IN);
    app = mount(<App />);
    const { byTestId, container } = app;
    await waitFor(() => byTestId('scan-input'));
    await type(byTestId('scan-input') as HTMLInputElement, 'b1234xyz');
    (byTestId('scan-open') as HTMLButtonElement).click();
    await waitFor(() => byTestId('asset-view'));
    expect(called('find_plate')[0]!.args).toMatchObject({ plate: 'b1234xyz' });
    // The preview first: nothing is printed until staff confirm; Escape closes it.
    (byTestId('print-label') as HTMLButtonElement).click();
    await waitFor(() => byTestId('label-preview'));
    expect(called('label_preview')[0]!.args).toMatchObject({ asset_id: 'a1' });
    expect(called('print_label')).toHaveLength(0);
    const image = byTestId('label-preview-image') as HTMLImageElement;
    expect(decodeURIComponent(image.src)).toContain('<text>B 1234 XYZ</text>');
    expect(textOf(container, 'label-preview-printer')).toBe('Dicetak ke Label_Printer');
    expect(document.activeElement).toBe(byTestId('print-confirm'));
    byTestId('label-preview')!.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    await settle();
    expect(byTestId('label-preview')).toBeNull();
    expect(called('print_label')).toHaveLength(0);

    (byTestId('print-label') as HTMLButtonElement).click();
    await waitFor(() => byTestId('print-confirm'));
    (byTestId('print-confirm') as HTMLButtonElement).click();
    await waitFor(() => byTestId('label-done'));
    expect(called('print_label')[0]!.args).toMatchObject({ asset_id: 'a1', label_version: 1 });
    expect(byTestId('label-preview')).toBeNull();
    expect(textOf(container, 'label-done')).toBe('Label tercetak (pekerjaan #7).');
    expect(textOf(container, 'asset-status')).toBe('Dalam perawatan');
  });

  it('says when there is no printer, and the PDF can still be saved', async () => {
    backend(SIGNED_IN, {
      print_label: () => Promise.reject({ code: 'no_printer', message: 'no printer' }),
      save_label: null,
    });
    app = mount(<App />);
    const { byTestId, container } = app;
    await waitFor(() => byTestId('scan-input'));
    await type(byTestId('scan-input') as HTMLInputElement, 'B 1234 XYZ');
    (byTestId('scan-open') as HTMLButtonElement).click();
    await waitFor(() => byTestId('print-label'));
    (byTestId('print-label') as HTMLButtonElement).click();
    await waitFor(() => byTestId('print-confirm'));
    (byTestId('print-confirm') as HTMLButtonElement).click();
    await waitFor(() => byTestId('label-error'));
    expect(textOf(container, 'label-error')).toContain('PDF tetap dapat disimpan');
    await type(byTestId('save-path') as HTMLInputElement, '/tmp/label.pdf');
    (byTestId('save-label') as HTMLButtonElement).click();
    await waitFor(() => byTestId('label-done'));
    expect(called('save_label')[0]!.args).toMatchObject({ asset_id: 'a1', path: '/tmp/label.pdf' });
  });

  it('shows the offline banner with the next try, then progress and synced', async () => {
    backend(SIGNED_IN);
    app = mount(<App />);
    await counterReady();
    await emit('sync', { event: 'offline', code: 'server_unreachable', message: 'down', retry_in_secs: 4 });
    await waitFor(() => app!.byTestId('offline-banner'));
    expect(textOf(app.container, 'offline-banner')).toBe(
      'Luring — bekerja dari salinan cabang — Mencoba lagi dalam 4 detik',
    );
    await emit('sync', { event: 'pulling', pages: 2, records: 900, first_copy: true });
    await waitFor(() => textOf(app!.container, 'sync-progress')?.includes('900'));
    expect(app.byTestId('offline-banner')).toBeNull();
    const before = called('sync_now').length; // one round is asked for when the screen opens
    (app.byTestId('sync-now') as HTMLButtonElement).click();
    await waitFor(() => called('sync_now').length === before + 1);
  });

  it('saves the scanner port, baud rate and printer in the settings', async () => {
    backend(SIGNED_IN);
    app = mount(<App />);
    const { byTestId } = app;
    await waitFor(() => byTestId('tab-settings'));
    (byTestId('tab-settings') as HTMLButtonElement).click();
    await waitFor(() => byTestId('settings-port')?.querySelectorAll('option').length === 2);
    const choose = async (id: string, value: string) => {
      const select = byTestId(id) as HTMLSelectElement;
      select.value = value;
      select.dispatchEvent(new Event('change', { bubbles: true }));
      await settle();
    };
    await choose('settings-port', '/dev/ttyACM0');
    await choose('settings-baud', '115200');
    await waitFor(() => byTestId('settings-printer')?.querySelectorAll('option').length === 2);
    await choose('settings-printer', 'Label_Printer');
    (byTestId('settings-save') as HTMLButtonElement).click();
    await waitFor(() => byTestId('settings-saved'));
    expect(called('save_preferences')[0]!.args).toMatchObject({
      preferences: {
        scanner: { port: '/dev/ttyACM0', baud_rate: 115200, line_ending: 'auto' },
        printer: { server: 'http://127.0.0.1:631', printer: 'Label_Printer' },
      },
    });
  });

  it('shows a SKU\'s month and its waitlist in queue order', async () => {
    backend(SIGNED_IN, {
      sku_calendar: {
        sku: 'AVANZA-13G-AT',
        month: '2026-12',
        branch: 'JKT01',
        days: [{ date: '2026-12-24', free_units: 0, total_units: 5, state: 'sold_out' }],
      },
      sku_waitlist: {
        sku: 'AVANZA-13G-AT',
        items: [
          { id: 'w1', sku: 'AVANZA-13G-AT', branch_id: 'b1', customer_id: 'c-000000000001', start: '2026-12-24',
            end: '2026-12-27', status: 'OFFERED', position: null, offer_booking_id: 'bk' },
          { id: 'w2', sku: 'AVANZA-13G-AT', branch_id: 'b1', customer_id: 'c-000000000002', start: '2026-12-24',
            end: '2026-12-27', status: 'WAITING', position: 1, offer_booking_id: null },
        ],
      },
    });
    app = mount(<App />);
    const { byTestId, container } = app;
    await waitFor(() => byTestId('tab-calendar'));
    (byTestId('tab-calendar') as HTMLButtonElement).click();
    await waitFor(() => byTestId('calendar-show'));
    await type(byTestId('calendar-sku') as HTMLInputElement, 'avanza-13g-at');
    (byTestId('calendar-show') as HTMLButtonElement).click();
    await waitFor(() => byTestId('waitlist-row'));
    expect(textOf(container, 'day-2026-12-24')).toContain('0/5');
    const rows = container.querySelectorAll('[data-testid="waitlist-row"]');
    expect(rows[0]!.textContent).toContain('sedang ditawari unit');
    expect(rows[1]!.textContent).toContain('antrean ke-1');
    expect(called('sku_waitlist')[0]!.args).toMatchObject({ sku: 'AVANZA-13G-AT' });
  });

  it('switches the counter to English', async () => {
    backend(SIGNED_IN);
    app = mount(<App />);
    const { byTestId, container } = app;
    await waitFor(() => byTestId('overdue-row'));
    (byTestId('lang-en') as HTMLButtonElement).click();
    await waitFor(() => byTestId('overdue-row')!.textContent!.includes('2 days late'));
    expect(textOf(container, 'tab-today')).toBe('Today');
    expect(byTestId('pickups-row')!.textContent).toContain('Rp 1,250,000');
  });
});
