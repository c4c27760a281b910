//! SentraRental companion server: the system of record for branches, assets, customers and
//! bookings. Postgres decides (no double booking, ever); Redis is a derived, rebuildable layer.
//!
//! `main.rs` reads the configuration and calls [`start`]; tests call [`start`] too, on port 0,
//! against their own database.

pub mod auth;
pub mod booking;
pub mod cache;
pub mod config;
pub mod customers;
pub mod db;
pub mod demo;
pub mod error;
pub mod handover;
pub mod http;
pub mod idempotency;
pub mod inventory;
pub mod jobs;
pub mod kyc;
pub mod metrics;
pub mod notify;
pub mod payments;
pub mod state;
pub mod storage;
pub mod sync;
pub mod telemetry;
pub mod text;

use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context;
use booking::{BookingService, BookingSettings};
use cache::{
    Cache, RedisHandle, RedisTarget,
    redlock::{Redlock, RetryPolicy},
};

pub use config::Config;
pub use db::MIGRATOR;
pub use state::AppState;

/// A server bound to its address, ready to serve.
#[derive(Debug)]
pub struct Server {
    listener: tokio::net::TcpListener,
    state: AppState,
}

/// Connects to Postgres (applying migrations when configured) and Redis, and binds the listener.
pub async fn start(config: Config) -> anyhow::Result<Server> {
    let db = db::connect(&config.database_url, config.db_max_connections).await?;
    if config.auto_migrate {
        MIGRATOR
            .run(&db)
            .await
            .context("applying database migrations failed")?;
    }
    let main_target = if config.redis_cluster_urls.is_empty() {
        RedisTarget::Node(config.redis_url.clone())
    } else {
        RedisTarget::Cluster(config.redis_cluster_urls.clone())
    };
    let lock_nodes = if config.redlock_urls.is_empty() {
        vec![RedisHandle::new(main_target.clone())?]
    } else {
        config
            .redlock_urls
            .iter()
            .map(|url| RedisHandle::new(RedisTarget::Node(url.clone())))
            .collect::<anyhow::Result<_>>()?
    };
    let cache = Arc::new(Cache {
        main: RedisHandle::new(main_target).context("REDIS_URL / REDIS_CLUSTER_URLS")?,
        key_prefix: config.redis_key_prefix.clone(),
    });
    let redlock = Arc::new(Redlock::new(lock_nodes, RetryPolicy::default()));
    let bookings = BookingService::new(
        db.clone(),
        cache.clone(),
        redlock,
        BookingSettings {
            payment_window: config.payment_window,
            lock_ttl: config.lock_ttl,
            offer_window: config.waitlist_offer_window,
            max_rental_days: config.max_rental_days,
            booking_horizon_days: config.booking_horizon_days,
        },
    );
    let listener = tokio::net::TcpListener::bind(config.listen_addr)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (SENTRA_LISTEN_ADDR)",
                config.listen_addr
            )
        })?;
    let auth = auth::AuthService::new(
        db.clone(),
        config.jwt_secret.clone(),
        auth::AuthSettings {
            access_ttl: config.access_token_ttl,
            refresh_ttl: config.refresh_token_ttl,
        },
    )?;
    let kyc = kyc_service(&config, db.clone())?;
    let handovers = handover::Handovers {
        db: db.clone(),
        storage: kyc.storage.clone(),
        vault: kyc.vault.clone(),
        bookings: bookings.clone(),
        public_url: config.public_url.clone(),
    };
    let payments = payments::Payments {
        db: db.clone(),
        bookings: bookings.clone(),
        gateways: Arc::new(payments::gateways(&config.payments, &config.public_url)?),
        config: Arc::new(config.payments.clone()),
        storage: kyc.storage.clone(),
    };
    schedule_daily_jobs(&payments, &kyc).await?;
    let sync = sync::Sync::new(db.clone(), bookings.clone(), handovers.clone());
    let metrics = Arc::new(metrics::Metrics::new());
    let notify = notify_service(&config, db.clone(), metrics.clone())?;
    let state = AppState {
        notify,
        kyc,
        handovers,
        payments,
        rate_limiter: http::rate_limit::RateLimiter::new(
            config.rate_limit_per_second,
            config.rate_limit_burst,
            config.trusted_proxy_hops,
        ),
        auth,
        availability: bookings.availability().clone(),
        customers: customers::Customers::new(db.clone()),
        sync,
        db,
        cache,
        bookings,
        metrics,
        config: Arc::new(config),
    };
    Ok(Server { listener, state })
}

/// How often overdue rentals' occupancy catches up with the branch's day: a rental due at noon
/// holds its asset's day at most this long after it became overdue.
const OVERDUE_SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_mins(1);

fn days(n: u32) -> std::time::Duration {
    std::time::Duration::from_secs(u64::from(n) * 86_400)
}

/// The document vault's keys, as configured.
pub fn vault_keys(config: &Config) -> kyc::vault::VaultKeys {
    kyc::vault::VaultKeys {
        current_id: config.data_key_id.clone(),
        current: config.data_key.clone(),
        retired: config.retired_data_keys.clone(),
        nik_hash_key: config.nik_hash_key.clone(),
    }
}

/// The KYC service: object storage, the document vault and the configured provider.
fn kyc_service(config: &Config, db: sqlx::PgPool) -> anyhow::Result<kyc::Kyc> {
    let storage = storage::Storage::open(&config.storage)?;
    tracing::info!(location = storage.location(), "object storage");
    let provider: Arc<dyn kyc::KycProvider> = match config.kyc.provider {
        config::KycProviderKind::Manual => Arc::new(kyc::ManualReview),
        config::KycProviderKind::Verihubs => Arc::new(kyc::Verihubs::new(
            &config.kyc.verihubs_url,
            &config.kyc.verihubs_app_id,
            config.kyc.verihubs_api_key.clone(),
        )?),
    };
    Ok(kyc::Kyc {
        db,
        storage,
        vault: kyc::vault::Vault::new(&vault_keys(config))?,
        provider,
        retention: std::time::Duration::from_secs(u64::from(config.kyc.retention_days) * 86_400),
        review_window: std::time::Duration::from_secs(u64::from(config.kyc.review_days) * 86_400),
        limits: kyc::limits::RetentionLimits {
            case_results: days(config.kyc.result_retention_days),
            consent_addresses: days(config.kyc.consent_address_retention_days),
            access_log_addresses: days(config.kyc.access_log_address_retention_days),
            login_failures: days(config.kyc.login_failure_retention_days),
        },
    })
}

/// Makes sure the daily jobs (payments reconciliation, personal-data retention) are queued.
async fn schedule_daily_jobs(payments: &payments::Payments, kyc: &kyc::Kyc) -> anyhow::Result<()> {
    payments
        .schedule_reconciliation()
        .await
        .context("scheduling the payments reconciliation")?;
    kyc.schedule_retention()
        .await
        .context("scheduling the personal-data retention pass")
}

/// The notification service: each channel's provider as configured (the console by default).
pub fn notify_service(
    config: &Config,
    db: sqlx::PgPool,
    metrics: Arc<metrics::Metrics>,
) -> anyhow::Result<notify::Notify> {
    use secrecy::ExposeSecret as _;
    use sentra_domain::notification::Channel;
    let settings = &config.notify;
    let whatsapp: Arc<dyn notify::Notifier> = match settings.whatsapp {
        config::ChannelProvider::Console => Arc::new(notify::ConsoleNotifier(Channel::Whatsapp)),
        config::ChannelProvider::Live => Arc::new(notify::whatsapp::WhatsappCloud::new(
            &settings.whatsapp_url,
            &settings.whatsapp_phone_number_id,
            settings.whatsapp_token.clone(),
            &settings.whatsapp_template_prefix,
        )?),
    };
    let email: Arc<dyn notify::Notifier> = match settings.email {
        config::ChannelProvider::Console => Arc::new(notify::ConsoleNotifier(Channel::Email)),
        config::ChannelProvider::Live => {
            let extra_root_pem = match &settings.smtp_ca_file {
                Some(path) => Some(
                    std::fs::read(path)
                        .with_context(|| format!("SENTRA_SMTP_CA_FILE: cannot read {path}"))?,
                ),
                None => None,
            };
            Arc::new(notify::email::SmtpMailer::new(
                &notify::email::SmtpSettings {
                    host: settings.smtp_host.clone(),
                    port: settings.smtp_port,
                    security: settings.smtp_security,
                    username: settings.smtp_username.clone(),
                    password: settings.smtp_password.clone(),
                    from: settings.smtp_from.clone(),
                    extra_root_pem,
                },
            )?)
        }
    };
    if settings.whatsapp == config::ChannelProvider::Console
        || settings.email == config::ChannelProvider::Console
    {
        tracing::warn!(
            "notifications are written to the console, not sent (set SENTRA_WHATSAPP=cloud and SENTRA_EMAIL=smtp in production)"
        );
    }
    if config.kyc.provider == config::KycProviderKind::Verihubs
        && settings.verihubs_privacy_email.is_none()
    {
        tracing::warn!(
            "SENTRA_VERIHUBS_PRIVACY_EMAIL is not set: erasure requests owed to Verihubs wait until it is"
        );
    }
    let configured = |s: &secrecy::SecretString| (!s.expose_secret().is_empty()).then(|| s.clone());
    Ok(notify::Notify {
        db,
        whatsapp,
        email,
        settings: notify::NotifySettings {
            customer_url: settings.customer_url.clone(),
            label_secret: config.label_secret.clone(),
            whatsapp_app_secret: configured(&settings.whatsapp_app_secret),
            whatsapp_verify_token: configured(&settings.whatsapp_verify_token),
            body_retention: settings.body_retention,
            verihubs_privacy_email: settings.verihubs_privacy_email.clone(),
        },
        clock: notify::Clock::system(),
        metrics: Some(metrics),
    })
}

impl Server {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The application state (tests use its pool).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let background = self.spawn_background();
        let app = http::router(self.state);
        let app = app.into_make_service_with_connect_info::<SocketAddr>();
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await
            .context("the HTTP server failed");
        drop(background);
        served
    }

    /// The background work that lives as long as the server: the calendar rebuild at start-up
    /// and its periodic reconcile, the payment-window sweeper, and the job queue's runner. Dropping
    /// the returned set stops them.
    fn spawn_background(&self) -> tokio::task::JoinSet<()> {
        let mut tasks = tokio::task::JoinSet::new();
        let state = self.state.clone();
        tasks.spawn(async move {
            let window = state.bookings.settings().calendar_window();
            booking::reconcile::run(
                state.db,
                state.cache,
                window,
                state.config.reconcile_interval,
                state.metrics,
            )
            .await;
        });
        let state = self.state.clone();
        tasks.spawn(async move {
            let interval = state.config.expiry_sweep_interval;
            booking::expiry::run(state.bookings, state.db, interval).await;
        });
        let state = self.state.clone();
        if !state.config.background_jobs {
            tracing::info!("the job queue runs on other servers (SENTRA_BACKGROUND_JOBS=false)");
        }
        tasks.spawn(async move {
            if !state.config.background_jobs {
                return;
            }
            let workers = jobs::Workers {
                bookings: state.bookings,
                kyc: state.kyc,
                payments: state.payments,
                notify: state.notify,
                metrics: Some(state.metrics),
            };
            jobs::run(workers, state.db, state.config.expiry_sweep_interval).await;
        });
        let state = self.state.clone();
        tasks.spawn(async move {
            handover::run_overdue_sweeper(state.handovers, OVERDUE_SWEEP_INTERVAL).await;
        });
        tasks
    }
}
