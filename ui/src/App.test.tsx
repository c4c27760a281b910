import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from './App';
import type { ServerStatus } from './api';
import { SAMPLE_STATUS, SIGNED_OUT } from './fixtures';
import { dictionaries, LANG_STORAGE_KEY } from './i18n';
import { deferred, mount, textOf, waitFor } from './test-utils';

type Mounted = ReturnType<typeof mount>;
let app: Mounted | undefined;

function start(): Mounted {
  app = mount(<App />);
  return app;
}

/**
 * Mock the backend of the login screen (nobody signed in, no branches);
 * returns the `server_status` calls made so far.
 */
function mockBackend(handler: (n: number) => unknown): string[] {
  const calls: string[] = [];
  mockIPC((cmd) => {
    if (cmd === 'app_state') return SIGNED_OUT;
    if (cmd === 'branches') return [];
    if (cmd !== 'server_status') throw { code: 'unknown_command', message: cmd };
    calls.push(cmd);
    return handler(calls.length);
  });
  return calls;
}

beforeEach(() => {
  localStorage.clear();
  document.documentElement.lang = '';
});

afterEach(() => {
  app?.unmount();
  app = undefined;
  clearMocks();
  localStorage.clear();
});

describe('server status panel', () => {
  it('shows version, ready state and a failed redis check on success', async () => {
    mockBackend(() => SAMPLE_STATUS);
    const { container, byTestId } = start();

    await waitFor(() => byTestId('server-version'));
    expect(textOf(container, 'server-version')).toBe('0.1.0');
    expect(byTestId('server-version')!.textContent).toBe('0.1.0');
    expect(textOf(container, 'server-state')).toBe('Siap');
    expect(textOf(container, 'server-url')).toBe('http://127.0.0.1:8080');
    expect(textOf(container, 'server-api-version')).toBe('1');

    const items = container.querySelectorAll('[data-testid="server-checks"] > li');
    expect(items).toHaveLength(2);
    const redis = byTestId('check-redis')!;
    expect(redis.tagName).toBe('LI');
    expect(redis.textContent).toContain('redis');
    expect(redis.textContent).toContain('Gagal');
    expect(redis.classList.contains('check-failed')).toBe(true);
    const postgres = byTestId('check-postgres')!;
    expect(postgres.textContent).toContain('OK');
    expect(postgres.classList.contains('check-ok')).toBe(true);

    expect(byTestId('server-loading')).toBeNull();
    expect(byTestId('server-error')).toBeNull();
    expect(document.documentElement.lang).toBe('id');
  });

  it('shows "Terganggu" when the server is not ready', async () => {
    mockBackend(() => ({ ...SAMPLE_STATUS, ready: false }) satisfies ServerStatus);
    const { container, byTestId } = start();
    await waitFor(() => byTestId('server-state'));
    expect(textOf(container, 'server-state')).toBe('Terganggu');
  });

  it('shows the loading state while the call is pending', async () => {
    const pending = deferred<ServerStatus>();
    mockBackend(() => pending.promise);
    const { container, byTestId } = start();

    await waitFor(() => byTestId('server-loading'));
    expect(textOf(container, 'server-loading')).toBe('Memeriksa server…');
    expect((byTestId('check-again') as HTMLButtonElement).disabled).toBe(true);
    expect(byTestId('server-version')).toBeNull();

    pending.resolve(SAMPLE_STATUS);
    await waitFor(() => byTestId('server-version'));
    expect(byTestId('server-loading')).toBeNull();
    expect((byTestId('check-again') as HTMLButtonElement).disabled).toBe(false);
  });

  it('shows the Indonesian message and the code when the server is unreachable', async () => {
    mockBackend(() => Promise.reject({ code: 'server_unreachable' }));
    const { container, byTestId } = start();

    await waitFor(() => byTestId('server-error'));
    expect(textOf(container, 'server-error')).toBe(
      'Server tidak dapat dihubungi. Periksa koneksi jaringan.',
    );
    expect(textOf(container, 'error-code')).toBe('server_unreachable');
    expect(byTestId('server-version')).toBeNull();
    expect(byTestId('server-loading')).toBeNull();
  });

  it.each([
    ['server_error', dictionaries.id.errorServerError],
    ['invalid_response', dictionaries.id.errorInvalidResponse],
    ['brand_new_code', dictionaries.id.errorUnknown],
  ])('maps error code %s to its message', async (code, text) => {
    mockBackend(() => Promise.reject({ code, message: 'detail for support' }));
    const { container, byTestId } = start();
    await waitFor(() => byTestId('server-error'));
    expect(textOf(container, 'server-error')).toBe(text);
    expect(textOf(container, 'error-code')).toBe(code);
    expect(byTestId('error-code')!.getAttribute('title')).toBe('detail for support');
  });

  it.each([
    ['a plain string', () => Promise.reject('connection refused')],
    ['an Error', () => Promise.reject(new Error('boom'))],
    ['null', () => Promise.reject(null)],
  ])('treats a rejection with %s as code unknown', async (_label, reject) => {
    mockBackend(reject);
    const { container, byTestId } = start();
    await waitFor(() => byTestId('server-error'));
    expect(textOf(container, 'server-error')).toBe(dictionaries.id.errorUnknown);
    expect(textOf(container, 'error-code')).toBe('unknown');
  });

  it('shows invalid_response when the payload has the wrong shape', async () => {
    mockBackend(() => ({ status: 'ok' }));
    const { container, byTestId } = start();
    await waitFor(() => byTestId('server-error'));
    expect(textOf(container, 'error-code')).toBe('invalid_response');
  });

  it('calls server_status again on "Periksa lagi" and shows the new result', async () => {
    const calls = mockBackend((n) =>
      n === 1 ? Promise.reject({ code: 'server_unreachable', message: 'refused' }) : SAMPLE_STATUS,
    );
    const { container, byTestId } = start();

    await waitFor(() => byTestId('server-error'));
    expect(calls).toEqual(['server_status']);

    const button = byTestId('check-again') as HTMLButtonElement;
    expect(button.textContent).toBe('Periksa lagi');
    button.click();

    await waitFor(() => byTestId('server-version'));
    expect(calls).toEqual(['server_status', 'server_status']);
    expect(textOf(container, 'server-state')).toBe('Siap');
    expect(byTestId('server-error')).toBeNull();
  });
});

describe('language switch', () => {
  it('re-renders in English and persists the choice', async () => {
    mockBackend(() => SAMPLE_STATUS);
    const { container, byTestId } = start();
    await waitFor(() => byTestId('server-state'));
    expect(textOf(container, 'server-state')).toBe('Siap');
    expect(byTestId('lang-id')!.getAttribute('aria-pressed')).toBe('true');

    byTestId('lang-en')!.click();

    await waitFor(() => textOf(container, 'server-state') === 'Ready');
    expect(textOf(container, 'check-again')).toBe('Check again');
    expect(byTestId('check-redis')!.textContent).toContain('Failed');
    expect(byTestId('check-redis')!.textContent).not.toContain('Gagal');
    expect(container.querySelector('#status-title')!.textContent).toBe('Server status');
    expect(byTestId('lang-en')!.getAttribute('aria-pressed')).toBe('true');
    expect(byTestId('lang-id')!.getAttribute('aria-pressed')).toBe('false');
    expect(localStorage.getItem(LANG_STORAGE_KEY)).toBe('en');
    expect(document.documentElement.lang).toBe('en');
    // The data itself is untouched by the language.
    expect(textOf(container, 'server-version')).toBe('0.1.0');

    byTestId('lang-id')!.click();
    await waitFor(() => textOf(container, 'server-state') === 'Siap');
    expect(localStorage.getItem(LANG_STORAGE_KEY)).toBe('id');
    expect(document.documentElement.lang).toBe('id');
  });

  it('translates an error message that is already shown', async () => {
    mockBackend(() => Promise.reject({ code: 'server_unreachable', message: 'refused' }));
    const { container, byTestId } = start();
    await waitFor(() => byTestId('server-error'));

    byTestId('lang-en')!.click();
    await waitFor(
      () =>
        textOf(container, 'server-error') ===
        'The server cannot be reached. Check the network connection.',
    );
    expect(textOf(container, 'error-code')).toBe('server_unreachable');
  });

  it('starts in English when that was stored', async () => {
    localStorage.setItem(LANG_STORAGE_KEY, 'en');
    const pending = deferred<ServerStatus>();
    mockBackend(() => pending.promise);
    const { container, byTestId } = start();

    await waitFor(() => byTestId('server-loading'));
    expect(textOf(container, 'server-loading')).toBe('Checking the server…');
    expect(document.documentElement.lang).toBe('en');

    pending.resolve(SAMPLE_STATUS);
    await waitFor(() => textOf(container, 'server-state') === 'Ready');
  });
});
