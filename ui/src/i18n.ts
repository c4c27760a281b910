/**
 * All visible text of the app. `id` (Bahasa Indonesia) is the default and
 * the source of truth for the keys: `en` is typed as `Messages`, so TypeScript
 * rejects a missing or an extra key. Every value is a plain string so the
 * dictionaries can be checked mechanically (see i18n.test.ts).
 */

export type Lang = 'id' | 'en';

export const LANGS: readonly Lang[] = ['id', 'en'];

/** localStorage key holding the chosen language. */
export const LANG_STORAGE_KEY = 'sentra.lang';

export const DEFAULT_LANG: Lang = 'id';

const id = {
  appName: 'SentraRental',
  appTagline: 'Aplikasi staf cabang',
  languageLabel: 'Bahasa',
  languageId: 'Bahasa Indonesia',
  languageEn: 'English',

  statusTitle: 'Status server',
  statusLoading: 'Memeriksa server…',
  statusCheckAgain: 'Periksa lagi',
  statusServerUrl: 'Alamat server',
  statusVersion: 'Versi',
  statusApiVersion: 'Versi API',
  statusState: 'Keadaan',
  statusReady: 'Siap',
  statusDegraded: 'Terganggu',
  statusChecks: 'Pemeriksaan',
  statusNoChecks: 'Tidak ada pemeriksaan yang dilaporkan.',
  checkOk: 'OK',
  checkFailed: 'Gagal',

  errorTitle: 'Tidak dapat memeriksa server',
  errorCodeLabel: 'Kode',
  errorServerUnreachable: 'Server tidak dapat dihubungi. Periksa koneksi jaringan.',
  errorServerError: 'Server mengalami gangguan. Coba lagi beberapa saat lagi.',
  errorInvalidResponse:
    'Jawaban server tidak dapat dibaca. Versi aplikasi mungkin tidak cocok dengan server.',
  errorUnknown: 'Terjadi kesalahan yang tidak terduga. Hubungi dukungan bila terus berulang.',
};

export type Messages = typeof id;

const en: Messages = {
  appName: 'SentraRental',
  appTagline: 'Branch staff app',
  languageLabel: 'Language',
  languageId: 'Bahasa Indonesia',
  languageEn: 'English',

  statusTitle: 'Server status',
  statusLoading: 'Checking the server…',
  statusCheckAgain: 'Check again',
  statusServerUrl: 'Server address',
  statusVersion: 'Version',
  statusApiVersion: 'API version',
  statusState: 'State',
  statusReady: 'Ready',
  statusDegraded: 'Degraded',
  statusChecks: 'Checks',
  statusNoChecks: 'No checks were reported.',
  checkOk: 'OK',
  checkFailed: 'Failed',

  errorTitle: 'Cannot check the server',
  errorCodeLabel: 'Code',
  errorServerUnreachable: 'The server cannot be reached. Check the network connection.',
  errorServerError: 'The server ran into a problem. Try again in a moment.',
  errorInvalidResponse:
    'The server response could not be read. The app version may not match the server.',
  errorUnknown: 'An unexpected error occurred. Contact support if it keeps happening.',
};

export const dictionaries: Record<Lang, Messages> = { id, en };

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (LANGS as readonly string[]).includes(value);
}

/** The stored language, or the default when none (or garbage) is stored. */
export function loadLang(): Lang {
  try {
    const stored = globalThis.localStorage?.getItem(LANG_STORAGE_KEY);
    return isLang(stored) ? stored : DEFAULT_LANG;
  } catch {
    return DEFAULT_LANG;
  }
}

export function saveLang(lang: Lang): void {
  try {
    globalThis.localStorage?.setItem(LANG_STORAGE_KEY, lang);
  } catch {
    // Storage may be unavailable (private mode, quota): the choice then
    // only lasts for this session, which is acceptable.
  }
}

/** Error codes the UI has a dedicated message for. */
const ERROR_KEYS = {
  server_unreachable: 'errorServerUnreachable',
  server_error: 'errorServerError',
  invalid_response: 'errorInvalidResponse',
} as const satisfies Record<string, keyof Messages>;

/** Human message for a command error code; unknown codes get a generic text. */
export function errorMessage(m: Messages, code: string): string {
  const key = Object.prototype.hasOwnProperty.call(ERROR_KEYS, code)
    ? ERROR_KEYS[code as keyof typeof ERROR_KEYS]
    : 'errorUnknown';
  return m[key];
}
