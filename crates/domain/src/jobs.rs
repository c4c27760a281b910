//! The kinds of background job the server runs, as stored in `jobs.kind`.

use std::{fmt, str::FromStr};

/// What a queued job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// A unit of a SKU freed up on some days: offer it to the waitlist.
    UnitFreed,
    /// A verification's retention period is over: delete its raw images.
    KycPurge,
    /// A payment hold may have moved at its provider (a webhook came, or an answer was lost):
    /// ask the provider and catch up.
    PaymentSync,
    /// A hold is no longer needed (rental completed, booking cancelled or lapsed): void or
    /// release it at the provider.
    HoldRelease,
    /// A card hold is about to lapse during a long rental: apply the policy and tell staff.
    HoldLapseGuard,
    /// A confirmed bill still waits for its capture to be recorded.
    SettlementCapture,
    /// Compare yesterday's ledger with each provider's status and list the differences.
    PaymentsReconcile,
    /// The daily pass that removes personal data past its retention period.
    DataRetention,
    /// Something happened that customers or staff are told about: write its messages.
    NotificationFanout,
    /// One message is due: send it over its channel.
    NotificationSend,
}

/// A `jobs.kind` this version does not know (written by a newer server, or by hand).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown job kind {0:?}")]
pub struct UnknownJobKind(pub String);

impl JobKind {
    /// Every kind.
    pub const ALL: [JobKind; 10] = [
        JobKind::UnitFreed,
        JobKind::KycPurge,
        JobKind::PaymentSync,
        JobKind::HoldRelease,
        JobKind::HoldLapseGuard,
        JobKind::SettlementCapture,
        JobKind::PaymentsReconcile,
        JobKind::DataRetention,
        JobKind::NotificationFanout,
        JobKind::NotificationSend,
    ];

    /// The name stored in `jobs.kind`.
    pub const fn as_str(self) -> &'static str {
        match self {
            JobKind::UnitFreed => "unit_freed",
            JobKind::KycPurge => "kyc_purge",
            JobKind::PaymentSync => "payment_sync",
            JobKind::HoldRelease => "hold_release",
            JobKind::HoldLapseGuard => "hold_lapse_guard",
            JobKind::SettlementCapture => "settlement_capture",
            JobKind::PaymentsReconcile => "payments_reconcile",
            JobKind::DataRetention => "data_retention",
            JobKind::NotificationFanout => "notification_fanout",
            JobKind::NotificationSend => "notification_send",
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for JobKind {
    type Err = UnknownJobKind;

    /// Parses the stored name (case-sensitive).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| UnknownJobKind(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_stored_name_and_others_are_refused() {
        for kind in JobKind::ALL {
            assert_eq!(kind.as_str().parse::<JobKind>(), Ok(kind));
        }
        assert_eq!(
            "Unit_Freed".parse::<JobKind>(),
            Err(UnknownJobKind("Unit_Freed".to_owned()))
        );
    }
}
