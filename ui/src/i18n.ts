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
  errorUnauthorized: 'E-mail atau kata sandi salah.',
  errorBranchRequired: 'Akun ini bekerja di beberapa cabang: pilih cabang.',
  errorBranchNotAllowed: 'Akun ini tidak bekerja di cabang yang dipilih.',
  errorNotInCopy: 'Tidak ditemukan di salinan cabang ini.',
  errorInvalidLabel: 'Label ini sudah diganti dengan label baru. Lepaskan dari aset.',
  errorScanNotOurs: 'Kode ini bukan kode SentraRental.',
  errorScanNotText: 'Pemindai mengirim data rusak (periksa baud rate).',
  errorScanTooLong: 'Hasil pindai terlalu panjang (periksa pengaturan pemindai).',
  errorScanMalformed: 'Kode rusak atau tidak lengkap. Pindai lagi.',
  errorNoPrinter: 'Belum ada printer. PDF tetap dapat disimpan.',
  errorPrinterNotFound: 'Printer yang dipilih tidak ada di server cetak. Pilih printer lain.',
  errorPrinterNotChosen: 'Ada beberapa printer tanpa printer bawaan: pilih satu di Pengaturan.',
  errorPrinterUnreachable: 'Server cetak tidak dapat dihubungi.',
  errorPrintFailed: 'Pencetakan gagal di printer.',
  errorDeviceRevoked: 'PC ini telah dicabut oleh HQ. Hubungi HQ lalu masuk lagi.',
  errorSessionEnded: 'Sesi berakhir. Silakan masuk lagi.',
  errorKeychain: 'Gantungan kunci sistem tidak tersedia.',
  errorLocalStorage: 'Salinan lokal tidak dapat dipakai.',
  errorPrintSlow: 'Printer belum selesai; pekerjaan tetap dalam antrean. Jangan cetak ulang.',
  errorPrinterRefused: 'Printer menolak pekerjaan ini.',
  errorScannerFailed: 'Pemindai tidak dapat dijalankan.',
  errorNoBranch: 'Masuk ke sebuah cabang terlebih dahulu.',
  errorNotFound: 'Tidak ditemukan.',
  errorForbidden: 'Akun Anda tidak diizinkan melakukan ini.',
  errorValidation: 'Isian tidak valid.',

  navToday: 'Hari ini',
  navAssets: 'Cari aset',
  navCalendar: 'Kalender',
  navSettings: 'Pengaturan',
  navServer: 'Server',

  loginTitle: 'Masuk',
  loginEmail: 'E-mail',
  loginPassword: 'Kata sandi',
  loginBranch: 'Cabang',
  loginBranchAny: 'Cabang saya (satu cabang)',
  loginSubmit: 'Masuk',
  loginWorking: 'Sedang masuk…',
  logout: 'Keluar',
  starting: 'Membuka salinan cabang…',
  loginSessionEnded: 'Sesi Anda telah berakhir. Silakan masuk lagi.',
  keychainMissing:
    'Gantungan kunci sistem (keychain) tidak tersedia: Anda harus masuk setiap kali aplikasi dibuka.',

  scanLabel: 'Pindai atau ketik kode / pelat',
  scanPlaceholder: 'Arahkan pemindai ke kode QR…',
  scanOpen: 'Buka',
  scannerConnected: 'Pemindai tersambung',
  scannerDisconnected: 'Pemindai terputus — menunggu disambungkan kembali',

  offlineBanner: 'Luring — bekerja dari salinan cabang',
  offlineRetry: 'Mencoba lagi dalam {s} detik',
  pendingChanges: '{n} perubahan menunggu dikirim',
  unsettledChanges: '{n} konflik perlu diperiksa',
  syncing: 'Menyinkronkan…',
  syncFirstCopy: 'Salinan pertama cabang: {n} catatan diterima',
  syncProgress: '{n} catatan diterima',
  syncDone: 'Tersinkron',
  syncNow: 'Sinkronkan sekarang',

  todayTitle: 'Pekerjaan hari ini',
  pickups: 'Pengambilan hari ini',
  returns: 'Pengembalian hari ini',
  overdue: 'Terlambat dikembalikan',
  noneToday: 'Tidak ada.',
  colPlate: 'Pelat',
  colCustomer: 'Pelanggan',
  colPeriod: 'Periode',
  colTotal: 'Total',
  colStatus: 'Status',
  daysLate: '{n} hari terlambat',

  assetTitle: 'Aset',
  assetSearch: 'Cari',
  assetPlate: 'Pelat / nomor seri',
  assetModel: 'Model',
  assetStatus: 'Status',
  assetOdometer: 'Odometer',
  assetLabelVersion: 'Versi label',
  assetComing: 'Pemesanan mendatang',
  printLabel: 'Cetak label…',
  printNow: 'Cetak',
  cancel: 'Batal',
  previewAlt: 'Pratinjau label {plate}',
  previewPrinter: 'Dicetak ke {printer}',
  previewDefaultPrinter: 'Dicetak ke printer bawaan',
  previewVersion: 'label versi {n}',
  previewing: 'Menyiapkan pratinjau…',
  saveLabel: 'Simpan label sebagai PDF',
  savePath: 'Simpan ke (path berkas)',
  printing: 'Mencetak…',
  printed: 'Label tercetak (pekerjaan #{n}).',
  saved: 'PDF tersimpan.',
  fromCopy: 'Dari salinan luring — belum dicek server',
  fromServer: 'Dicek oleh server',

  bookingTitle: 'Pemesanan',
  bookingCustomer: 'Pelanggan',
  bookingNik: 'NIK',
  bookingKyc: 'Status KYC',
  bookingTier: 'Keanggotaan',
  bookingPeriod: 'Periode',
  bookingTotal: 'Total',
  verifyTitle: 'Verifikasi dokumen',
  verifyHash: 'Sidik (SHA-256)',

  calendarTitle: 'Ketersediaan SKU',
  calendarSku: 'Kode SKU',
  calendarMonth: 'Bulan',
  calendarShow: 'Tampilkan',
  calendarFree: 'tersedia',
  waitlistTitle: 'Daftar tunggu',
  waitlistPlace: 'antrean ke-{n}',
  waitlistOffered: 'sedang ditawari unit',

  settingsTitle: 'Pengaturan',
  settingsServer: 'Alamat server (berlaku setelah aplikasi dibuka ulang)',
  settingsScannerPort: 'Port pemindai',
  settingsScannerNone: '— tanpa pemindai serial —',
  settingsBaud: 'Baud rate',
  settingsLineEnding: 'Akhir baris',
  settingsLineAuto: 'Otomatis (CR, LF atau CRLF)',
  settingsPrintServer: 'Server cetak (CUPS)',
  settingsPrinter: 'Printer',
  settingsPrinterDefault: '— printer bawaan —',
  settingsSave: 'Simpan',
  settingsSaved: 'Pengaturan tersimpan.',

  statusConfirmed: 'Terkonfirmasi',
  statusActive: 'Sedang disewa',
  statusPending: 'Menunggu pembayaran',
  statusOther: 'Lainnya',
  statusReturned: 'Sudah dikembalikan',
  statusCompleted: 'Selesai',
  statusCancelled: 'Dibatalkan',
  statusExpired: 'Kedaluwarsa',
  statusNoShow: 'Tidak datang',
  assetActive: 'Aktif',
  assetMaintenance: 'Dalam perawatan',
  assetRetired: 'Tidak dipakai lagi',
  kycUnverified: 'Belum diverifikasi',
  kycPending: 'Sedang diperiksa',
  kycVerified: 'Terverifikasi',
  kycRejected: 'Ditolak',
  tierRegular: 'Reguler',
  tierSilver: 'Silver',
  tierGold: 'Gold',
  tierPlatinum: 'Platinum',
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
  errorUnauthorized: 'The e-mail or password is wrong.',
  errorBranchRequired: 'This account works at several branches: choose one.',
  errorBranchNotAllowed: 'This account does not work at the chosen branch.',
  errorNotInCopy: "Not found in this branch's copy.",
  errorInvalidLabel: 'This label was replaced by a newer one. Remove it from the asset.',
  errorScanNotOurs: 'This code is not a SentraRental code.',
  errorScanNotText: 'The scanner sent garbled data (check the baud rate).',
  errorScanTooLong: "The scan was too long (check the scanner's settings).",
  errorScanMalformed: 'The code is damaged or incomplete. Scan again.',
  errorNoPrinter: 'No printer is set up. The PDF can still be saved.',
  errorPrinterNotFound: 'The chosen printer is not on the print server. Choose another.',
  errorPrinterNotChosen: 'Several printers and no default: choose one in Settings.',
  errorPrinterUnreachable: 'The print server cannot be reached.',
  errorPrintFailed: 'The printer failed to print.',
  errorDeviceRevoked: 'HQ has revoked this PC. Contact HQ, then log in again.',
  errorSessionEnded: 'The session has ended. Please log in again.',
  errorKeychain: 'The system keychain is not available.',
  errorLocalStorage: 'The local copy cannot be used.',
  errorPrintSlow: "The printer has not finished; the job stays queued. Don't print it again.",
  errorPrinterRefused: 'The printer refused this job.',
  errorScannerFailed: 'The scanner could not be started.',
  errorNoBranch: 'Log in to a branch first.',
  errorNotFound: 'Not found.',
  errorForbidden: 'Your account may not do this.',
  errorValidation: 'The input is not valid.',

  navToday: 'Today',
  navAssets: 'Find asset',
  navCalendar: 'Calendar',
  navSettings: 'Settings',
  navServer: 'Server',

  loginTitle: 'Log in',
  loginEmail: 'E-mail',
  loginPassword: 'Password',
  loginBranch: 'Branch',
  loginBranchAny: 'My branch (one branch)',
  loginSubmit: 'Log in',
  loginWorking: 'Logging in…',
  logout: 'Log out',
  starting: 'Opening the branch copy…',
  loginSessionEnded: 'Your session has ended. Please log in again.',
  keychainMissing:
    'The system keychain is not available: you will have to log in each time the app opens.',

  scanLabel: 'Scan or type a code / plate',
  scanPlaceholder: 'Point the scanner at a QR code…',
  scanOpen: 'Open',
  scannerConnected: 'Scanner connected',
  scannerDisconnected: 'Scanner disconnected — waiting for it to come back',

  offlineBanner: 'Offline — working from the branch copy',
  offlineRetry: 'Retrying in {s} s',
  pendingChanges: '{n} changes waiting to be sent',
  unsettledChanges: '{n} conflicts to review',
  syncing: 'Syncing…',
  syncFirstCopy: 'First copy of the branch: {n} records received',
  syncProgress: '{n} records received',
  syncDone: 'Synced',
  syncNow: 'Sync now',

  todayTitle: "Today's work",
  pickups: 'Pickups today',
  returns: 'Returns today',
  overdue: 'Overdue',
  noneToday: 'None.',
  colPlate: 'Plate',
  colCustomer: 'Customer',
  colPeriod: 'Period',
  colTotal: 'Total',
  colStatus: 'Status',
  daysLate: '{n} days late',

  assetTitle: 'Asset',
  assetSearch: 'Search',
  assetPlate: 'Plate / serial',
  assetModel: 'Model',
  assetStatus: 'Status',
  assetOdometer: 'Odometer',
  assetLabelVersion: 'Label version',
  assetComing: 'Coming bookings',
  printLabel: 'Print label…',
  printNow: 'Print',
  cancel: 'Cancel',
  previewAlt: 'Preview of the label for {plate}',
  previewPrinter: 'Prints on {printer}',
  previewDefaultPrinter: 'Prints on the default printer',
  previewVersion: 'label version {n}',
  previewing: 'Preparing the preview…',
  saveLabel: 'Save label as PDF',
  savePath: 'Save to (file path)',
  printing: 'Printing…',
  printed: 'Label printed (job #{n}).',
  saved: 'PDF saved.',
  fromCopy: 'From the offline copy — not yet checked by the server',
  fromServer: 'Checked by the server',

  bookingTitle: 'Booking',
  bookingCustomer: 'Customer',
  bookingNik: 'NIK',
  bookingKyc: 'KYC status',
  bookingTier: 'Membership',
  bookingPeriod: 'Period',
  bookingTotal: 'Total',
  verifyTitle: 'Document verification',
  verifyHash: 'Fingerprint (SHA-256)',

  calendarTitle: 'SKU availability',
  calendarSku: 'SKU code',
  calendarMonth: 'Month',
  calendarShow: 'Show',
  calendarFree: 'free',
  waitlistTitle: 'Waitlist',
  waitlistPlace: 'place {n}',
  waitlistOffered: 'offered a unit',

  settingsTitle: 'Settings',
  settingsServer: 'Server address (applies after the app is reopened)',
  settingsScannerPort: 'Scanner port',
  settingsScannerNone: '— no serial scanner —',
  settingsBaud: 'Baud rate',
  settingsLineEnding: 'Line ending',
  settingsLineAuto: 'Automatic (CR, LF or CRLF)',
  settingsPrintServer: 'Print server (CUPS)',
  settingsPrinter: 'Printer',
  settingsPrinterDefault: '— default printer —',
  settingsSave: 'Save',
  settingsSaved: 'Settings saved.',

  statusConfirmed: 'Confirmed',
  statusActive: 'On rent',
  statusPending: 'Awaiting payment',
  statusOther: 'Other',
  statusReturned: 'Returned',
  statusCompleted: 'Completed',
  statusCancelled: 'Cancelled',
  statusExpired: 'Expired',
  statusNoShow: 'No-show',
  assetActive: 'Active',
  assetMaintenance: 'In maintenance',
  assetRetired: 'Retired',
  kycUnverified: 'Not verified',
  kycPending: 'Under review',
  kycVerified: 'Verified',
  kycRejected: 'Rejected',
  tierRegular: 'Regular',
  tierSilver: 'Silver',
  tierGold: 'Gold',
  tierPlatinum: 'Platinum',
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
  unauthorized: 'errorUnauthorized',
  branch_required: 'errorBranchRequired',
  branch_not_allowed: 'errorBranchNotAllowed',
  not_in_offline_copy: 'errorNotInCopy',
  invalid_label: 'errorInvalidLabel',
  scan_not_ours: 'errorScanNotOurs',
  scan_unknown_format: 'errorScanNotOurs',
  scan_not_text: 'errorScanNotText',
  scan_too_long: 'errorScanTooLong',
  scan_malformed: 'errorScanMalformed',
  no_printer: 'errorNoPrinter',
  printer_not_found: 'errorPrinterNotFound',
  printer_not_chosen: 'errorPrinterNotChosen',
  printer_unreachable: 'errorPrinterUnreachable',
  print_failed: 'errorPrintFailed',
  device_revoked: 'errorDeviceRevoked',
  session_ended: 'errorSessionEnded',
  not_signed_in: 'errorSessionEnded',
  keychain_unavailable: 'errorKeychain',
  local_storage: 'errorLocalStorage',
  print_slow: 'errorPrintSlow',
  printer_refused: 'errorPrinterRefused',
  scanner_failed: 'errorScannerFailed',
  no_branch: 'errorNoBranch',
  offline_copy_stale: 'errorServerUnreachable',
  device_not_registered: 'errorDeviceRevoked',
  not_found: 'errorNotFound',
  forbidden: 'errorForbidden',
  validation_failed: 'errorValidation',
} as const satisfies Record<string, keyof Messages>;

/** Fills `{name}` placeholders of a message. */
export function fill(message: string, values: Record<string, string | number>): string {
  return message.replace(/\{(\w+)\}/g, (all, name: string) =>
    Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all,
  );
}

/** Human message for a command error code; unknown codes get a generic text. */
export function errorMessage(m: Messages, code: string): string {
  const key = Object.prototype.hasOwnProperty.call(ERROR_KEYS, code)
    ? ERROR_KEYS[code as keyof typeof ERROR_KEYS]
    : 'errorUnknown';
  return m[key];
}
