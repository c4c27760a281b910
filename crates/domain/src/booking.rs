//! The booking lifecycle.
//!
//! This module owns the statuses a booking moves through and the only legal moves between
//! them. Every status change in the system goes through [`BookingStatus::transition`], so the
//! rules live in one table here.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a booking is in its life.
///
/// ```text
/// PENDING_PAYMENT ──▶ CONFIRMED ──▶ ACTIVE ──▶ RETURNED ──▶ COMPLETED
///        │                │
///        ├──▶ CANCELLED ◀─┤
///        └──▶ EXPIRED     └──▶ NO_SHOW
/// ```
///
/// Serializes, displays and parses as `SCREAMING_SNAKE_CASE` (`"PENDING_PAYMENT"`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BookingStatus {
    /// Created, waiting for the deposit or payment; the asset is already held.
    PendingPayment,
    /// Paid and waiting for pick-up.
    Confirmed,
    /// The customer has the asset.
    Active,
    /// The asset is back and awaiting inspection and final settlement.
    Returned,
    /// Settled and closed.
    Completed,
    /// Called off by the customer or staff before pick-up.
    Cancelled,
    /// Payment never arrived in time.
    Expired,
    /// The customer did not come to pick up the asset.
    NoShow,
}

crate::stored_enum! {
    /// What a row of `bookings` blocks its asset for.
    pub enum BookingKind as "booking kind" {
        /// A customer's rental.
        Rental = "RENTAL",
        /// The workshop: the asset is out of service for these days.
        Maintenance = "MAINTENANCE",
    }
}

/// A status change the lifecycle does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a booking cannot go from {from} to {to}")]
pub struct IllegalTransition {
    pub from: BookingStatus,
    pub to: BookingStatus,
}

/// The text is not one of the booking status names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown booking status {0:?}")]
pub struct UnknownBookingStatus(pub String);

impl BookingStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [BookingStatus; 8] = [
        Self::PendingPayment,
        Self::Confirmed,
        Self::Active,
        Self::Returned,
        Self::Completed,
        Self::Cancelled,
        Self::Expired,
        Self::NoShow,
    ];

    /// The wire name, e.g. `"PENDING_PAYMENT"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::PendingPayment => "PENDING_PAYMENT",
            Self::Confirmed => "CONFIRMED",
            Self::Active => "ACTIVE",
            Self::Returned => "RETURNED",
            Self::Completed => "COMPLETED",
            Self::Cancelled => "CANCELLED",
            Self::Expired => "EXPIRED",
            Self::NoShow => "NO_SHOW",
        }
    }

    /// Whether a booking in this status occupies its asset, i.e. blocks other bookings of the
    /// same asset for its dates: pending payment, confirmed and active.
    pub const fn is_active(self) -> bool {
        matches!(self, Self::PendingPayment | Self::Confirmed | Self::Active)
    }

    /// Whether the booking is closed for good: completed, cancelled, expired or no-show.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Cancelled | Self::Expired | Self::NoShow
        )
    }

    /// The statuses a booking in this status may legally move to; empty for terminal ones.
    pub const fn next_statuses(self) -> &'static [BookingStatus] {
        match self {
            Self::PendingPayment => &[Self::Confirmed, Self::Cancelled, Self::Expired],
            Self::Confirmed => &[Self::Active, Self::Cancelled, Self::NoShow],
            Self::Active => &[Self::Returned],
            Self::Returned => &[Self::Completed],
            Self::Completed | Self::Cancelled | Self::Expired | Self::NoShow => &[],
        }
    }

    /// Whether moving from `self` to `next` is legal. Staying in the same status is not a
    /// transition and is never legal.
    pub fn can_transition_to(self, next: BookingStatus) -> bool {
        self.next_statuses().contains(&next)
    }

    /// Moves to `next` if the lifecycle allows it.
    pub fn transition(self, next: BookingStatus) -> Result<BookingStatus, IllegalTransition> {
        if self.can_transition_to(next) {
            Ok(next)
        } else {
            Err(IllegalTransition {
                from: self,
                to: next,
            })
        }
    }
}

impl fmt::Display for BookingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for BookingStatus {
    type Err = UnknownBookingStatus;

    /// Parses the exact wire name (case-sensitive).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == name)
            .ok_or_else(|| UnknownBookingStatus(name.to_owned()))
    }
}

impl TryFrom<String> for BookingStatus {
    type Error = UnknownBookingStatus;

    /// Reads a stored status (how rows decode it).
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::BookingStatus::{
        Active, Cancelled, Completed, Confirmed, Expired, NoShow, PendingPayment, Returned,
    };
    use super::*;
    use proptest::prelude::*;

    /// The expected legality of every `from → to` pair, rows and columns in `ALL` order:
    /// pending payment, confirmed, active, returned, completed, cancelled, expired, no-show.
    const LEGAL: [[bool; 8]; 8] = {
        const O: bool = false;
        const X: bool = true;
        [
            [O, X, O, O, O, X, X, O], // PendingPayment
            [O, O, X, O, O, X, O, X], // Confirmed
            [O, O, O, X, O, O, O, O], // Active
            [O, O, O, O, X, O, O, O], // Returned
            [O, O, O, O, O, O, O, O], // Completed
            [O, O, O, O, O, O, O, O], // Cancelled
            [O, O, O, O, O, O, O, O], // Expired
            [O, O, O, O, O, O, O, O], // NoShow
        ]
    };

    #[test]
    fn transition_matrix_matches_the_table() {
        for (row, from) in BookingStatus::ALL.into_iter().enumerate() {
            for (column, to) in BookingStatus::ALL.into_iter().enumerate() {
                let expected = LEGAL[row][column];
                assert_eq!(from.can_transition_to(to), expected, "{from} -> {to}");
                let outcome = from.transition(to);
                if expected {
                    assert_eq!(outcome, Ok(to), "{from} -> {to}");
                } else {
                    assert_eq!(
                        outcome,
                        Err(IllegalTransition { from, to }),
                        "{from} -> {to}"
                    );
                }
            }
        }
    }

    #[test]
    fn illegal_transition_message_names_both_statuses() {
        let error = Completed.transition(Active).expect_err("terminal");
        assert_eq!(
            error.to_string(),
            "a booking cannot go from COMPLETED to ACTIVE"
        );
    }

    #[test]
    fn active_and_terminal_classification() {
        let active: Vec<_> = BookingStatus::ALL
            .into_iter()
            .filter(|status| status.is_active())
            .collect();
        assert_eq!(active, [PendingPayment, Confirmed, Active]);
        let terminal: Vec<_> = BookingStatus::ALL
            .into_iter()
            .filter(|status| status.is_terminal())
            .collect();
        assert_eq!(terminal, [Completed, Cancelled, Expired, NoShow]);
        assert!(!Returned.is_active() && !Returned.is_terminal());
    }

    #[test]
    fn wire_names_are_screaming_snake_case() {
        let names = [
            "PENDING_PAYMENT",
            "CONFIRMED",
            "ACTIVE",
            "RETURNED",
            "COMPLETED",
            "CANCELLED",
            "EXPIRED",
            "NO_SHOW",
        ];
        for (status, name) in BookingStatus::ALL.into_iter().zip(names) {
            assert_eq!(status.as_str(), name);
            assert_eq!(status.to_string(), name);
            assert_eq!(name.parse::<BookingStatus>(), Ok(status));
            let json = serde_json::to_string(&status).expect("ser");
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(
                serde_json::from_str::<BookingStatus>(&json).expect("de"),
                status
            );
        }
    }

    #[test]
    fn unknown_names_are_rejected() {
        for name in ["pending_payment", "NoShow", "NO SHOW", "", "CANCELED"] {
            assert_eq!(
                name.parse::<BookingStatus>(),
                Err(UnknownBookingStatus(name.to_owned()))
            );
        }
        assert!(serde_json::from_str::<BookingStatus>("\"Active\"").is_err());
    }

    proptest! {
        /// Following random legal moves from any status always reaches a terminal status
        /// within four steps, and once a booking stops occupying its asset it never does
        /// again.
        #[test]
        fn random_walks_end_terminal_within_four_steps(
            start in prop::sample::select(BookingStatus::ALL.to_vec()),
            choices in prop::collection::vec(any::<prop::sample::Index>(), 8),
        ) {
            let mut status = start;
            let mut steps = 0;
            for choice in choices {
                let options = status.next_statuses();
                if options.is_empty() {
                    break;
                }
                let next = options[choice.index(options.len())];
                let moved = status.transition(next);
                prop_assert_eq!(moved, Ok(next));
                prop_assert!(
                    status.is_active() || !next.is_active(),
                    "{} released its asset, then {} took it again", status, next
                );
                status = next;
                steps += 1;
            }
            prop_assert!(status.is_terminal(), "walk stopped at {}", status);
            prop_assert!(steps <= 4, "took {} steps", steps);
        }
    }
}
