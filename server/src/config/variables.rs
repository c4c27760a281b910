//! The table of every environment variable the server reads: name, default, meaning. The README
//! lists them all (a test checks), and `--help` prints them.

/// Table of variables for docs and `--help`: name, default, meaning.
pub const VARIABLES: &[(&str, &str, &str)] = &[
    (
        "DATABASE_URL",
        "(required)",
        "Postgres URL, e.g. postgres://sentra@127.0.0.1:5432/sentra",
    ),
    ("REDIS_URL", "redis://127.0.0.1:6379", "Redis node URL"),
    (
        "REDIS_CLUSTER_URLS",
        "(empty)",
        "comma-separated Redis Cluster nodes; replaces REDIS_URL",
    ),
    (
        "SENTRA_REDLOCK_URLS",
        "(empty: the main Redis)",
        "comma-separated independent lock nodes",
    ),
    (
        "SENTRA_LISTEN_ADDR",
        "127.0.0.1:8080",
        "HTTP listen address",
    ),
    (
        "SENTRA_DB_MAX_CONNECTIONS",
        "20",
        "Postgres pool size (1-500)",
    ),
    (
        "SENTRA_REDIS_KEY_PREFIX",
        "(empty)",
        "prefix of every Redis key",
    ),
    (
        "SENTRA_AUTO_MIGRATE",
        "true",
        "apply migrations at start-up (true/false)",
    ),
    ("SENTRA_LOG_FORMAT", "pretty", "pretty or json"),
    ("SENTRA_LOG", "info,sqlx=warn", "tracing filter directives"),
    (
        "SENTRA_REQUEST_TIMEOUT_SECS",
        "30",
        "per-request time limit in seconds (1-600)",
    ),
    (
        "SENTRA_PAYMENT_WINDOW_SECS",
        "600",
        "payment window of a new booking (1-86400 s)",
    ),
    (
        "SENTRA_LOCK_TTL_SECS",
        "600",
        "upper bound of a per-asset lock (1-3600 s)",
    ),
    (
        "SENTRA_MAX_RENTAL_DAYS",
        "60",
        "longest rental in days (1-365)",
    ),
    (
        "SENTRA_BOOKING_HORIZON_DAYS",
        "365",
        "how far ahead a rental may start (1-365 days)",
    ),
    (
        "SENTRA_EXPIRY_SWEEP_MILLIS",
        "1000",
        "how often lapsed holds are expired (50-60000 ms)",
    ),
    (
        "SENTRA_BACKGROUND_JOBS",
        "true",
        "run the job queue (notifications, waitlist offers, payment follow-ups) here; false on API-only replicas",
    ),
    (
        "SENTRA_RECONCILE_INTERVAL_SECS",
        "30",
        "calendar reconcile with Postgres, incremental (1-86400 s)",
    ),
    (
        "SENTRA_JWT_SECRET",
        "(required)",
        "secret that signs access tokens, 32+ characters",
    ),
    (
        "SENTRA_ACCESS_TOKEN_SECS",
        "900",
        "access token lifetime (60-3600 s)",
    ),
    (
        "SENTRA_REFRESH_TOKEN_DAYS",
        "30",
        "refresh token lifetime (1-365 days)",
    ),
    (
        "SENTRA_RATE_LIMIT_PER_SEC",
        "20",
        "sustained requests/s per client address and per caller (1-100000)",
    ),
    (
        "SENTRA_RATE_LIMIT_BURST",
        "200",
        "requests at once per client address and per caller (1-1000000)",
    ),
    (
        "SENTRA_TRUSTED_PROXY_HOPS",
        "0",
        "proxies in front of the server that append to X-Forwarded-For (Kong alone: 1); the client address is the entry the outermost one appended; 0 ignores the header (0-5)",
    ),
    (
        "SENTRA_LABEL_SECRET",
        "(required)",
        "signs asset labels and booking QR codes, 32+ characters; keep it stable (printed labels depend on it)",
    ),
    (
        "SENTRA_PUBLIC_URL",
        "http://127.0.0.1:8080",
        "the address customers and police reach the server at; printed documents' QR codes open <this>/v/<hash>",
    ),
    (
        "SENTRA_DATA_KEY",
        "(required)",
        "base64 of 32 random bytes; wraps the keys of stored KTP images and selfies (openssl rand -base64 32)",
    ),
    (
        "SENTRA_DATA_KEY_ID",
        "k1",
        "id of SENTRA_DATA_KEY, stored with every key it wraps; give a new key a new id",
    ),
    (
        "SENTRA_DATA_KEYS_RETIRED",
        "(none)",
        "earlier data keys as id=base64,... kept for reading until `sentra-server rotate-data-key` has re-wrapped everything",
    ),
    (
        "SENTRA_NIK_HASH_KEY",
        "(derived from SENTRA_DATA_KEY)",
        "base64 of 32 random bytes: the NIK lookup hash's own secret (keep it for good: changing it breaks the one-KTP-one-account check)",
    ),
    (
        "SENTRA_STORAGE_URL",
        "data/objects",
        "object storage: a directory, file:///dir, or s3://bucket/prefix",
    ),
    (
        "SENTRA_S3_ENDPOINT",
        "(empty: AWS)",
        "S3-compatible endpoint URL",
    ),
    ("SENTRA_S3_REGION", "ap-southeast-3", "S3 region"),
    (
        "SENTRA_S3_ACCESS_KEY_ID",
        "(empty)",
        "S3 access key id (required for s3://)",
    ),
    (
        "SENTRA_S3_SECRET_ACCESS_KEY",
        "(empty)",
        "S3 secret key (required for s3://)",
    ),
    (
        "SENTRA_KYC_PROVIDER",
        "manual",
        "manual (staff review) or verihubs",
    ),
    (
        "SENTRA_VERIHUBS_URL",
        "https://api.verihubs.com",
        "Verihubs API base URL",
    ),
    (
        "SENTRA_VERIHUBS_APP_ID",
        "(empty)",
        "Verihubs App-ID (required for verihubs)",
    ),
    (
        "SENTRA_VERIHUBS_API_KEY",
        "(empty)",
        "Verihubs API-Key (required for verihubs)",
    ),
    (
        "SENTRA_KYC_RETENTION_DAYS",
        "30",
        "days after a KYC decision until the raw KTP image and selfie are purged (1-3650)",
    ),
    (
        "SENTRA_KYC_REVIEW_DAYS",
        "14",
        "days a verification may wait for a reviewer; then its photos are deleted unreviewed and it is closed (1-90)",
    ),
    (
        "SENTRA_KYC_RESULT_RETENTION_DAYS",
        "1825",
        "days after a decision a verification keeps the name, masked NIK, provider reference and reviewer's words (30-3650)",
    ),
    (
        "SENTRA_CONSENT_ADDRESS_RETENTION_DAYS",
        "730",
        "days a consent keeps the client address and user agent (30-3650)",
    ),
    (
        "SENTRA_ACCESS_LOG_ADDRESS_RETENTION_DAYS",
        "365",
        "days the identity-document access log keeps client addresses (30-3650)",
    ),
    (
        "SENTRA_LOGIN_FAILURE_RETENTION_DAYS",
        "1",
        "days a login-failure counter is kept once its window ended (1-30)",
    ),
    (
        "SENTRA_PAYMENT_PROVIDER",
        "manual",
        "deposit provider of branches not listed below: manual, midtrans or xendit",
    ),
    (
        "SENTRA_PAYMENT_PROVIDERS",
        "(empty)",
        "per branch code, e.g. JKT01=midtrans,DPS01=xendit",
    ),
    (
        "SENTRA_PAYMENT_TIMEOUT_SECS",
        "20",
        "time limit of one payment provider call (1-120)",
    ),
    (
        "SENTRA_MIDTRANS_URL",
        "https://api.midtrans.com",
        "Midtrans Core API base URL (https://api.sandbox.midtrans.com for the sandbox)",
    ),
    (
        "SENTRA_MIDTRANS_SERVER_KEY",
        "(empty)",
        "Midtrans server key: authenticates calls, checks webhook signatures (required for midtrans)",
    ),
    (
        "SENTRA_MIDTRANS_BANK",
        "bca",
        "acquiring bank card holds are routed to (bca, bri, maybank can void an uncaptured hold)",
    ),
    (
        "SENTRA_XENDIT_URL",
        "https://api.xendit.co",
        "Xendit API base URL",
    ),
    (
        "SENTRA_XENDIT_SECRET_KEY",
        "(empty)",
        "Xendit secret API key (required for xendit)",
    ),
    (
        "SENTRA_XENDIT_CALLBACK_TOKEN",
        "(empty)",
        "Xendit webhook verification token (required for xendit)",
    ),
    (
        "SENTRA_LONG_RENTAL_POLICY",
        "capture_deposit",
        "a card hold about to lapse during a rental: capture_deposit (refund the rest later) or alert_staff",
    ),
    (
        "SENTRA_HOLD_LAPSE_LEAD_HOURS",
        "24",
        "how long before a card hold lapses the long-rental policy applies (1-144)",
    ),
    (
        "SENTRA_WHATSAPP",
        "console",
        "WhatsApp notifications: console (written to the log, development) or cloud (WhatsApp Business Cloud API)",
    ),
    (
        "SENTRA_WHATSAPP_URL",
        "https://graph.facebook.com/v21.0",
        "WhatsApp Cloud API base URL with its version",
    ),
    (
        "SENTRA_WHATSAPP_PHONE_NUMBER_ID",
        "(empty)",
        "the business phone number's id (required for cloud)",
    ),
    (
        "SENTRA_WHATSAPP_TOKEN",
        "(empty)",
        "WhatsApp access token (required for cloud)",
    ),
    (
        "SENTRA_WHATSAPP_APP_SECRET",
        "(empty)",
        "Meta app secret: verifies the status webhooks' X-Hub-Signature-256 (required for cloud)",
    ),
    (
        "SENTRA_WHATSAPP_VERIFY_TOKEN",
        "(empty)",
        "what Meta's webhook verification request must carry",
    ),
    (
        "SENTRA_WHATSAPP_TEMPLATE_PREFIX",
        "sentra_",
        "prefix of our approved WhatsApp template names",
    ),
    (
        "SENTRA_EMAIL",
        "console",
        "e-mail notifications: console (written to the log, development) or smtp",
    ),
    (
        "SENTRA_SMTP_HOST",
        "(empty)",
        "SMTP server (required for smtp)",
    ),
    ("SENTRA_SMTP_PORT", "587", "SMTP port"),
    (
        "SENTRA_SMTP_SECURITY",
        "starttls",
        "starttls, tls (implicit, port 465) or none (loopback relays only)",
    ),
    (
        "SENTRA_SMTP_USERNAME",
        "(empty)",
        "SMTP AUTH user (empty: no AUTH)",
    ),
    ("SENTRA_SMTP_PASSWORD", "(empty)", "SMTP AUTH password"),
    (
        "SENTRA_SMTP_FROM",
        "SentraRental <noreply@sentrarental.id>",
        "sender of e-mails",
    ),
    (
        "SENTRA_SMTP_CA_FILE",
        "(empty)",
        "extra trusted root certificate (PEM) for the SMTP server",
    ),
    (
        "SENTRA_CUSTOMER_URL",
        "https://app.sentrarental.id",
        "the customers' web app: pay and booking links in messages",
    ),
    (
        "SENTRA_NOTIFICATION_BODY_RETENTION_DAYS",
        "90",
        "days message texts are kept; then only who, which template, when and the outcome (1-3650)",
    ),
    (
        "SENTRA_VERIHUBS_PRIVACY_EMAIL",
        "(empty)",
        "Verihubs' data-protection contact: erasure requests are e-mailed there",
    ),
];
