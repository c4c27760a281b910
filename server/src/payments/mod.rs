//! Deposit holds at Midtrans, Xendit and the counter: the customer's payment confirms the
//! booking, the return's bill is captured once (never above the hold), and what is left is
//! released after completion by a durable job.
//!
//! - [`gateway`]: the provider trait and the counter; [`midtrans`], [`xendit`]: the clients.
//! - [`holds`]: the hold rows and their append-only ledger; every change goes through the
//!   domain state machine (`sentra_domain::payment`), so a hold never goes back.
//! - [`flow`]: the customer's quote and payment, and the counter's deposits.
//! - [`drive`]: recording a provider's answer (an authorised deposit confirms its booking) and
//!   catching a hold up with its provider's status; capturing at most once.
//! - [`release`]: letting holds go once their booking ended, counter deposits given back, and
//!   the long-rental policy before a card hold lapses; run by jobs.
//! - [`settle`]: the bill at return, its one capture and the numbered invoice.
//! - [`webhooks`]: verified, stored-once notifications; the work is a job.
//! - [`reports`]: open holds, daily totals and the daily reconciliation with the providers.
//! - [`webhook_auth`]: Midtrans' signature and Xendit's callback token, in constant time.

pub mod drive;
pub mod flow;
pub mod gateway;
pub mod holds;
pub mod midtrans;
pub mod release;
pub mod reports;
pub mod settle;
pub mod webhook_auth;
pub mod webhooks;
pub mod xendit;

use std::{collections::HashMap, sync::Arc};

use gateway::{GatewayError, PaymentGateway};
use sentra_domain::{BookingStatus, payment::PaymentProvider};

use crate::{booking::BookingService, config::PaymentsConfig, storage::Storage};

/// The payment service (cheap to clone).
#[derive(Debug, Clone)]
pub struct Payments {
    pub db: sqlx::PgPool,
    pub bookings: BookingService,
    /// One client per provider in use.
    pub gateways: Arc<HashMap<PaymentProvider, Arc<dyn PaymentGateway>>>,
    pub config: Arc<PaymentsConfig>,
    /// Where invoices are kept.
    pub storage: Storage,
}

/// Why a payment operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("a {status} booking cannot be {action}")]
    InvalidState {
        status: BookingStatus,
        action: &'static str,
    },
    /// Authorised after the payment window lapsed: the hold is being voided.
    #[error("the payment window lapsed; the hold of {amount} is voided and nothing is charged")]
    WindowLapsed { amount: sentra_domain::Money },
    /// Asked to pay after the payment window lapsed: nothing was held.
    #[error("the payment window lapsed; nothing was held")]
    WindowClosed,
    #[error("the payment was declined: {0}")]
    Declined(String),
    #[error("this branch takes the deposit at the counter")]
    PayAtCounter,
    #[error("{0}")]
    Invalid(String),
    /// The hold or bill is in a state that does not allow this (e.g. the provider disagrees).
    #[error("{0}")]
    Conflict(String),
    #[error("the return's charges are not confirmed yet")]
    ChargesNotSettled,
    #[error("the charges are now {now}; read them again")]
    ChargesChanged { now: sentra_domain::Money },
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Storage(#[from] anyhow::Error),
}

impl From<sentra_domain::payment::HoldError> for PaymentError {
    fn from(e: sentra_domain::payment::HoldError) -> Self {
        Self::Conflict(e.to_string())
    }
}

impl Payments {
    /// The client of `provider` (the counter is always there).
    pub fn gateway(
        &self,
        provider: PaymentProvider,
    ) -> Result<Arc<dyn PaymentGateway>, PaymentError> {
        self.gateways.get(&provider).cloned().ok_or_else(|| {
            PaymentError::Storage(anyhow::anyhow!("no {provider} client is configured"))
        })
    }
}

/// The clients of every provider `config` uses.
pub fn gateways(
    config: &PaymentsConfig,
    public_url: &str,
) -> anyhow::Result<HashMap<PaymentProvider, Arc<dyn PaymentGateway>>> {
    let mut all: HashMap<PaymentProvider, Arc<dyn PaymentGateway>> = HashMap::new();
    all.insert(PaymentProvider::Manual, Arc::new(gateway::Counter));
    for provider in config.providers_in_use() {
        match provider {
            PaymentProvider::Midtrans => {
                all.insert(
                    provider,
                    Arc::new(midtrans::Midtrans::new(
                        &config.midtrans_url,
                        config.midtrans_server_key.clone(),
                        &config.midtrans_bank,
                        config.timeout,
                    )?),
                );
            }
            PaymentProvider::Xendit => {
                all.insert(
                    provider,
                    Arc::new(xendit::Xendit::new(
                        &config.xendit_url,
                        config.xendit_secret_key.clone(),
                        public_url,
                        config.timeout,
                    )?),
                );
            }
            PaymentProvider::Manual => {}
        }
    }
    Ok(all)
}
