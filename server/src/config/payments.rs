//! The payment settings: which provider each branch uses, the providers' addresses and keys
//! (secrets, never printed), and what happens to a card hold that would lapse during a long
//! rental.

use std::{collections::HashMap, time::Duration};

use secrecy::{ExposeSecret, SecretString};
use sentra_domain::payment::PaymentProvider;

use super::reader::{Invalid, Reader, provider_url};

/// What happens when a card hold would lapse (about 7 days) before the rental is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongRentalPolicy {
    /// Capture the whole hold before it lapses; what the bill does not need is refunded when
    /// the bill is settled. Staff are told either way.
    CaptureDeposit,
    /// Only tell staff, who arrange a new deposit with the customer.
    AlertStaff,
}

/// `SENTRA_PAYMENT_*`, `SENTRA_MIDTRANS_*`, `SENTRA_XENDIT_*`.
#[derive(Debug, Clone)]
pub struct PaymentsConfig {
    /// `SENTRA_PAYMENT_PROVIDER`: the provider of branches not listed below (`manual` by default).
    pub default_provider: PaymentProvider,
    /// `SENTRA_PAYMENT_PROVIDERS`: per branch code, e.g. `JKT01=midtrans,DPS01=xendit`.
    pub branch_providers: HashMap<String, PaymentProvider>,
    /// `SENTRA_PAYMENT_TIMEOUT_SECS`: one provider call's time limit.
    pub timeout: Duration,
    /// `SENTRA_MIDTRANS_URL`.
    pub midtrans_url: String,
    /// `SENTRA_MIDTRANS_SERVER_KEY`: authenticates our calls and signs Midtrans' webhooks.
    pub midtrans_server_key: SecretString,
    /// `SENTRA_MIDTRANS_BANK`: the acquiring bank card holds go to (`bca`, `bri` and `maybank`
    /// can void an uncaptured hold; BNI and Mandiri cannot).
    pub midtrans_bank: String,
    /// `SENTRA_XENDIT_URL`.
    pub xendit_url: String,
    /// `SENTRA_XENDIT_SECRET_KEY`.
    pub xendit_secret_key: SecretString,
    /// `SENTRA_XENDIT_CALLBACK_TOKEN`: what Xendit's webhooks carry in `x-callback-token`.
    pub xendit_callback_token: SecretString,
    /// `SENTRA_LONG_RENTAL_POLICY`: `capture_deposit` (default) or `alert_staff`.
    pub long_rental_policy: LongRentalPolicy,
    /// `SENTRA_HOLD_LAPSE_LEAD_HOURS`: how long before a card hold lapses the policy applies.
    pub lapse_lead: Duration,
}

impl PaymentsConfig {
    /// The provider of the branch with `code`.
    pub fn provider_of(&self, branch_code: &str) -> PaymentProvider {
        self.branch_providers
            .get(branch_code)
            .copied()
            .unwrap_or(self.default_provider)
    }

    /// Every provider some branch uses.
    pub fn providers_in_use(&self) -> Vec<PaymentProvider> {
        let mut all: Vec<_> = self.branch_providers.values().copied().collect();
        all.push(self.default_provider);
        all.sort_by_key(|p| p.as_str());
        all.dedup();
        all
    }
}

fn provider(v: &str) -> Result<PaymentProvider, Invalid> {
    PaymentProvider::parse(v).ok_or_else(|| Invalid::from("expected manual, midtrans or xendit"))
}

pub(super) fn read<F: Fn(&str) -> Option<String>>(r: &mut Reader<'_, F>) -> PaymentsConfig {
    let secret =
        |r: &Reader<'_, F>, name: &str| SecretString::from((r.lookup)(name).unwrap_or_default());
    let config = PaymentsConfig {
        default_provider: r.parsed("SENTRA_PAYMENT_PROVIDER", "manual", provider),
        branch_providers: r.parsed("SENTRA_PAYMENT_PROVIDERS", "", |v| {
            v.split(',')
                .map(str::trim)
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (code, name) = pair
                        .split_once('=')
                        .ok_or_else(|| Invalid::from("expected BRANCH=provider pairs"))?;
                    Ok((code.trim().to_owned(), provider(name.trim())?))
                })
                .collect()
        }),
        timeout: r.seconds("SENTRA_PAYMENT_TIMEOUT_SECS", "20", 1, 120),
        midtrans_url: r.parsed(
            "SENTRA_MIDTRANS_URL",
            "https://api.midtrans.com",
            provider_url,
        ),
        midtrans_server_key: secret(r, "SENTRA_MIDTRANS_SERVER_KEY"),
        midtrans_bank: r.parsed("SENTRA_MIDTRANS_BANK", "bca", |v| {
            if v.chars().all(|c| c.is_ascii_lowercase()) && !v.is_empty() {
                Ok(v.to_owned())
            } else {
                Err(Invalid::from("expected a bank code such as bca"))
            }
        }),
        xendit_url: r.parsed("SENTRA_XENDIT_URL", "https://api.xendit.co", provider_url),
        xendit_secret_key: secret(r, "SENTRA_XENDIT_SECRET_KEY"),
        xendit_callback_token: secret(r, "SENTRA_XENDIT_CALLBACK_TOKEN"),
        long_rental_policy: r.parsed(
            "SENTRA_LONG_RENTAL_POLICY",
            "capture_deposit",
            |v| match v {
                "capture_deposit" => Ok(LongRentalPolicy::CaptureDeposit),
                "alert_staff" => Ok(LongRentalPolicy::AlertStaff),
                _ => Err(Invalid::from("expected capture_deposit or alert_staff")),
            },
        ),
        lapse_lead: r.seconds("SENTRA_HOLD_LAPSE_LEAD_HOURS", "24", 1, 144) * 3600,
    };
    let in_use = config.providers_in_use();
    if in_use.contains(&PaymentProvider::Midtrans)
        && config.midtrans_server_key.expose_secret().is_empty()
    {
        r.problems
            .push("SENTRA_MIDTRANS_SERVER_KEY: required when a branch uses midtrans".to_owned());
    }
    if in_use.contains(&PaymentProvider::Xendit)
        && (config.xendit_secret_key.expose_secret().is_empty()
            || config.xendit_callback_token.expose_secret().is_empty())
    {
        r.problems.push(
            "SENTRA_XENDIT_SECRET_KEY and SENTRA_XENDIT_CALLBACK_TOKEN: required when a branch uses xendit"
                .to_owned(),
        );
    }
    config
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn read_with(vars: &[(&str, &str)]) -> (PaymentsConfig, Vec<String>) {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let lookup = |name: &str| map.get(name).cloned();
        let mut reader = Reader {
            lookup: &lookup,
            problems: Vec::new(),
        };
        let config = read(&mut reader);
        (config, reader.problems)
    }

    #[test]
    fn each_branch_gets_its_provider_and_a_missing_key_is_reported_without_values() {
        let (config, problems) = read_with(&[
            ("SENTRA_PAYMENT_PROVIDERS", "JKT01=midtrans, DPS01=xendit"),
            ("SENTRA_XENDIT_SECRET_KEY", "xnd_secret_value"),
        ]);
        assert_eq!(config.provider_of("JKT01"), PaymentProvider::Midtrans);
        assert_eq!(config.provider_of("DPS01"), PaymentProvider::Xendit);
        assert_eq!(config.provider_of("SUB01"), PaymentProvider::Manual);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().all(|p| !p.contains("xnd_secret_value")));
        assert!(!format!("{config:?}").contains("xnd_secret_value"));
        assert_eq!(config.xendit_secret_key.expose_secret(), "xnd_secret_value");
        let (_, problems) = read_with(&[("SENTRA_PAYMENT_PROVIDERS", "JKT01=paypal")]);
        assert_eq!(
            problems,
            ["SENTRA_PAYMENT_PROVIDERS: expected manual, midtrans or xendit"]
        );
    }
}
