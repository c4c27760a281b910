//! Deposit holds (card pre-authorisations, or cash and transfers kept by staff) and their
//! ledger: a hold is authorised, then captured in part or in full for what a late return or
//! damage justifies, and the rest released; or it fails, expires or is voided. The state never
//! goes back, every change is a ledger entry in integer Rupiah, and the entries always balance:
//! what was authorised is exactly what was captured, released, voided or expired, plus what is
//! still held.

use serde::{Deserialize, Serialize};

use crate::Money;

crate::stored_enum! {
    /// Where a hold is in its life.
    pub enum HoldStatus as "hold status" {
        /// Asked of the provider, not answered yet.
        Pending = "PENDING",
        /// The amount is held on the customer's card (or kept at the counter).
        Authorised = "AUTHORISED",
        /// Part or all of it was taken; the rest is still held until released.
        Captured = "CAPTURED",
        /// Done: whatever was not captured went back to the customer.
        Released = "RELEASED",
        /// The provider refused it.
        Failed = "FAILED",
        /// It lapsed at the provider (about 7 days for cards) before it was used.
        Expired = "EXPIRED",
        /// Called off before any capture (the booking lapsed or was cancelled).
        Voided = "VOIDED",
    }
}

impl HoldStatus {
    /// The statuses this one may go to; nothing ever goes back.
    pub const fn next(self) -> &'static [HoldStatus] {
        match self {
            Self::Pending => &[Self::Authorised, Self::Failed, Self::Expired, Self::Voided],
            Self::Authorised => &[Self::Captured, Self::Released, Self::Expired, Self::Voided],
            Self::Captured => &[Self::Released],
            Self::Released | Self::Failed | Self::Expired | Self::Voided => &[],
        }
    }

    /// Whether nothing more can happen.
    pub const fn is_final(self) -> bool {
        self.next().is_empty()
    }
}

/// One movement of a hold, as the ledger records it (amounts are never negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "entry", content = "amount", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LedgerEntry {
    Authorised(Money),
    Captured(Money),
    Released(Money),
    Voided(Money),
    Expired(Money),
}

/// Why a hold cannot move as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoldError {
    #[error("a {from} hold cannot become {to}")]
    IllegalTransition { from: HoldStatus, to: HoldStatus },
    #[error("an amount must be more than Rp 0")]
    NotPositive,
    #[error("{asked} is more than the {held} still held")]
    AboveHold { asked: Money, held: Money },
}

/// A hold and what has happened to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub status: HoldStatus,
    pub authorised: Money,
    pub captured: Money,
    /// Released, voided or expired: gone back to the customer.
    pub returned: Money,
}

impl Hold {
    /// A hold asked for, not yet authorised.
    pub const fn pending() -> Self {
        Self {
            status: HoldStatus::Pending,
            authorised: Money::ZERO,
            captured: Money::ZERO,
            returned: Money::ZERO,
        }
    }

    /// What is still held.
    pub fn held(&self) -> Money {
        Money::from_rupiah(
            self.authorised.rupiah() - self.captured.rupiah() - self.returned.rupiah(),
        )
    }

    fn to(self, status: HoldStatus) -> Result<Self, HoldError> {
        if self.status.next().contains(&status) {
            Ok(Self { status, ..self })
        } else {
            Err(HoldError::IllegalTransition {
                from: self.status,
                to: status,
            })
        }
    }

    /// The provider held `amount`.
    pub fn authorise(self, amount: Money) -> Result<(Self, LedgerEntry), HoldError> {
        if amount.rupiah() <= 0 {
            return Err(HoldError::NotPositive);
        }
        let mut next = self.to(HoldStatus::Authorised)?;
        next.authorised = amount;
        Ok((next, LedgerEntry::Authorised(amount)))
    }

    /// Takes `amount` (at most what is held; once: the rest is released afterwards).
    pub fn capture(self, amount: Money) -> Result<(Self, LedgerEntry), HoldError> {
        if amount.rupiah() <= 0 {
            return Err(HoldError::NotPositive);
        }
        let mut next = self.to(HoldStatus::Captured)?;
        if amount > self.held() {
            return Err(HoldError::AboveHold {
                asked: amount,
                held: self.held(),
            });
        }
        next.captured = amount;
        Ok((next, LedgerEntry::Captured(amount)))
    }

    /// Gives back whatever is still held and ends the hold.
    pub fn release(self) -> Result<(Self, LedgerEntry), HoldError> {
        self.give_back(HoldStatus::Released, LedgerEntry::Released)
    }

    /// Calls the hold off before any capture.
    pub fn void(self) -> Result<(Self, LedgerEntry), HoldError> {
        self.give_back(HoldStatus::Voided, LedgerEntry::Voided)
    }

    /// The provider let the hold lapse.
    pub fn expire(self) -> Result<(Self, LedgerEntry), HoldError> {
        self.give_back(HoldStatus::Expired, LedgerEntry::Expired)
    }

    /// The provider refused the authorisation (nothing was held).
    pub fn fail(self) -> Result<Self, HoldError> {
        self.to(HoldStatus::Failed)
    }

    fn give_back(
        self,
        status: HoldStatus,
        entry: fn(Money) -> LedgerEntry,
    ) -> Result<(Self, LedgerEntry), HoldError> {
        let held = self.held();
        let mut next = self.to(status)?;
        next.returned = Money::from_rupiah(self.returned.rupiah() + held.rupiah());
        Ok((next, entry(held)))
    }
}

/// Whether `entries` balance for `hold`: authorised = captured + returned + still held, and a
/// final hold holds nothing.
pub fn balances(hold: &Hold, entries: &[LedgerEntry]) -> bool {
    let mut sums = [0_i64; 3];
    for entry in entries {
        match entry {
            LedgerEntry::Authorised(m) => sums[0] += m.rupiah(),
            LedgerEntry::Captured(m) => sums[1] += m.rupiah(),
            LedgerEntry::Released(m) | LedgerEntry::Voided(m) | LedgerEntry::Expired(m) => {
                sums[2] += m.rupiah();
            }
        }
    }
    sums[0] == hold.authorised.rupiah()
        && sums[1] == hold.captured.rupiah()
        && sums[2] == hold.returned.rupiah()
        && sums[0] == sums[1] + sums[2] + hold.held().rupiah()
        && (!hold.status.is_final() || hold.held() == Money::ZERO)
}

/// Splits charges of `total` against a hold still holding `held`: what the hold covers (one
/// capture) and what is left to charge as a separate payment.
pub fn cover(total: Money, held: Money) -> (Money, Money) {
    let covered = total.min(held).max(Money::ZERO);
    (
        covered,
        Money::from_rupiah(total.rupiah() - covered.rupiah()),
    )
}

#[cfg(test)]
#[path = "payment/tests.rs"]
mod tests;
