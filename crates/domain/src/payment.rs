//! Deposit holds (card pre-authorisations, or cash and transfers kept by staff) and their
//! ledger: a hold is authorised, then captured in part or in full for what a late return or
//! damage justifies, and the rest released; or it fails, expires or is voided. The state never
//! goes back, every change is a ledger entry in integer Rupiah, and the entries always balance:
//! what was authorised is exactly what was captured, released, voided or expired, plus what is
//! still held; a refund gives back part of what was captured.

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

crate::stored_enum! {
    /// Who holds the money.
    pub enum PaymentProvider as "payment provider" {
        /// Midtrans Core API (card pre-authorisation, `GoPay` pre-authorisation).
        Midtrans = "midtrans",
        /// Xendit Payments API v3 (card, manual capture).
        Xendit = "xendit",
        /// Cash or a bank transfer kept by the branch, with numbered receipts.
        Manual = "manual",
    }
}

crate::stored_enum! {
    /// How the customer pays.
    pub enum PaymentMethod as "payment method" {
        Card = "card",
        /// `GoPay` tokenisation with `pre_auth` (Midtrans only; held 15 minutes by default).
        Gopay = "gopay",
        Cash = "cash",
        Transfer = "transfer",
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
    /// Given back after a capture (a deposit captured before its hold lapsed, then not needed).
    Refunded(Money),
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
    #[error("{asked} is more than the {refundable} that can be refunded")]
    AboveRefundable { asked: Money, refundable: Money },
    #[error("the provider captured {theirs}, the ledger says {ours}")]
    CapturedDiffers { ours: Money, theirs: Money },
}

/// A hold and what has happened to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    pub status: HoldStatus,
    pub authorised: Money,
    pub captured: Money,
    /// Released, voided or expired: gone back to the customer.
    pub returned: Money,
    /// Given back by refund after being captured.
    #[serde(default)]
    pub refunded: Money,
}

impl Hold {
    /// A hold asked for, not yet authorised.
    pub const fn pending() -> Self {
        Self {
            status: HoldStatus::Pending,
            authorised: Money::ZERO,
            captured: Money::ZERO,
            returned: Money::ZERO,
            refunded: Money::ZERO,
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

    /// Refunds `amount` of what was captured (a deposit captured before its hold lapsed, then
    /// not all needed) and ends the hold. Nothing may still be held.
    pub fn refund(self, amount: Money) -> Result<(Self, LedgerEntry), HoldError> {
        if amount.rupiah() <= 0 {
            return Err(HoldError::NotPositive);
        }
        let refundable = Money::from_rupiah(self.captured.rupiah() - self.refunded.rupiah());
        if amount > refundable || self.held() > Money::ZERO {
            return Err(HoldError::AboveRefundable {
                asked: amount,
                refundable,
            });
        }
        let mut next = self.to(HoldStatus::Released)?;
        next.refunded = Money::from_rupiah(self.refunded.rupiah() + amount.rupiah());
        Ok((next, LedgerEntry::Refunded(amount)))
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

/// Where a hold stands at the provider, as its status answer or webhook says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RemoteState {
    /// Waiting for the customer (3-D Secure, an app approval).
    Pending,
    /// Held, not captured.
    Authorised,
    /// Captured (settled or not); the provider frees the uncaptured rest.
    Captured,
    /// Called off (by us, or by the provider when a pre-authorisation ran out of time).
    Cancelled,
    /// Lapsed at the provider.
    Expired,
    /// Refused (declined, fraud, failed).
    Failed,
}

/// What the provider reports about a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remote {
    pub state: RemoteState,
    /// The amount authorised (zero when unknown: the hold's own amount is used).
    pub authorised: Money,
    /// The amount captured so far.
    pub captured: Money,
}

/// What a provider's "cancelled" means for a hold still authorised: whether we asked for it
/// (before use: voided; after the rental: released) or the provider let it run out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelMeaning {
    Voided,
    Released,
    Lapsed,
}

impl Hold {
    /// The steps that bring this hold up to what the provider reports, in order (none when the
    /// report is not ahead of it: an old or repeated report never takes a hold back).
    ///
    /// A report the hold cannot follow (captured more than held, a capture after the hold
    /// ended) is an error for the reconciliation report, and changes nothing.
    pub fn catch_up(
        self,
        remote: &Remote,
        cancelled: CancelMeaning,
    ) -> Result<Vec<(Hold, Option<LedgerEntry>)>, HoldError> {
        let mut steps = Vec::new();
        let mut hold = self;
        let authorised = if remote.authorised > Money::ZERO {
            remote.authorised
        } else {
            self.authorised
        };
        let ahead_of_pending = matches!(
            remote.state,
            RemoteState::Authorised | RemoteState::Captured
        ) || (matches!(remote.state, RemoteState::Cancelled)
            && remote.captured > Money::ZERO);
        if hold.status == HoldStatus::Pending && ahead_of_pending {
            let (next, entry) = hold.authorise(authorised)?;
            steps.push((next, Some(entry)));
            hold = next;
        }
        match (hold.status, remote.state) {
            (HoldStatus::Pending, RemoteState::Failed) => {
                let next = hold.fail()?;
                steps.push((next, None));
            }
            (HoldStatus::Pending, RemoteState::Cancelled) if cancelled == CancelMeaning::Voided => {
                let (next, entry) = hold.void()?;
                steps.push((next, Some(entry)));
            }
            (HoldStatus::Pending, RemoteState::Expired | RemoteState::Cancelled)
            | (HoldStatus::Authorised, RemoteState::Expired) => {
                let (next, entry) = hold.expire()?;
                steps.push((next, Some(entry)));
            }
            (HoldStatus::Authorised, RemoteState::Captured) => {
                let (next, entry) = hold.capture(remote.captured)?;
                steps.push((next, Some(entry)));
            }
            (HoldStatus::Authorised, RemoteState::Cancelled) => {
                let (next, entry) = match cancelled {
                    CancelMeaning::Voided => hold.void()?,
                    CancelMeaning::Released => hold.release()?,
                    CancelMeaning::Lapsed => hold.expire()?,
                };
                steps.push((next, Some(entry)));
            }
            (HoldStatus::Captured, RemoteState::Captured) if remote.captured != hold.captured => {
                return Err(HoldError::CapturedDiffers {
                    ours: hold.captured,
                    theirs: remote.captured,
                });
            }
            _ => {}
        }
        Ok(steps)
    }
}

/// Whether `entries` balance for `hold`: authorised = captured + returned + still held, and a
/// final hold holds nothing.
pub fn balances(hold: &Hold, entries: &[LedgerEntry]) -> bool {
    let mut sums = [0_i64; 4];
    for entry in entries {
        match entry {
            LedgerEntry::Authorised(m) => sums[0] += m.rupiah(),
            LedgerEntry::Captured(m) => sums[1] += m.rupiah(),
            LedgerEntry::Released(m) | LedgerEntry::Voided(m) | LedgerEntry::Expired(m) => {
                sums[2] += m.rupiah();
            }
            LedgerEntry::Refunded(m) => sums[3] += m.rupiah(),
        }
    }
    sums[0] == hold.authorised.rupiah()
        && sums[1] == hold.captured.rupiah()
        && sums[2] == hold.returned.rupiah()
        && sums[3] == hold.refunded.rupiah()
        && sums[3] <= sums[1]
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
