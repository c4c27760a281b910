//! What a rental costs: the quote a customer sees before paying (the rental price and the
//! refundable deposit, held together on the card), and the lines of the bill at return: the
//! rental itself, days taken early, a late return per the SKU's rule, fuel below the pickup
//! level, and damage found at the return inspection. All amounts are integer Rupiah.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{LateFeeRule, Money};

crate::stored_enum! {
    /// What a bill line is for.
    pub enum ChargeKind as "charge kind" {
        /// The booked days at the daily rate.
        Rental = "RENTAL",
        /// Days before the booked first day (an early pickup).
        ExtraDays = "EXTRA_DAYS",
        /// A return after the agreed time, per the SKU's late-fee rule.
        LateFee = "LATE_FEE",
        /// Less fuel than at pickup.
        Fuel = "FUEL",
        /// Damage found at the return inspection (entered by staff with a reason).
        Damage = "DAMAGE",
    }
}

impl ChargeKind {
    /// Whether staff enter this line by hand (the others are computed).
    pub const fn is_entered_by_staff(self) -> bool {
        matches!(self, Self::Damage)
    }
}

/// The price of a booking before it is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// Rental days (local dates in the branch's time zone).
    pub days: u32,
    pub daily_rate: Money,
    /// `daily_rate × days`.
    pub rental: Money,
    /// The refundable deposit of the SKU.
    pub deposit: Money,
    /// What the card holds: the rental and the deposit. Only the rental and what a late
    /// return or damage justifies is ever taken; the rest is released.
    pub hold: Money,
}

/// The quote of `days` at `daily_rate` with `deposit`, or `None` if it does not fit in an `i64`.
pub fn quote(daily_rate: Money, days: u32, deposit: Money) -> Option<Quote> {
    let rental = daily_rate.checked_mul(i64::from(days))?;
    Some(Quote {
        days,
        daily_rate,
        rental,
        deposit,
        hold: rental.checked_add(deposit)?,
    })
}

/// One line of the bill at return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    pub kind: ChargeKind,
    /// What the line is for, in Bahasa Indonesia (printed on the invoice).
    pub description: String,
    pub amount: Money,
}

/// What the return's computed lines depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReturnFacts {
    pub daily_rate: Money,
    /// The booked days.
    pub booked_days: u32,
    /// Days the asset was taken before the booked first day.
    pub early_days: u32,
    /// When it was due back, and when it came back.
    pub due_at: DateTime<Utc>,
    pub returned_at: DateTime<Utc>,
    pub late_fee: LateFeeRule,
    /// Fuel in eighths at pickup and at return.
    pub fuel_out_eighths: u8,
    pub fuel_in_eighths: u8,
    /// The price of one eighth of a tank (0: fuel is not charged for this SKU).
    pub fuel_per_eighth: Money,
}

/// The computed lines of a return: the rental, early days, a late fee and fuel (each only when
/// it costs something). Damage lines are added by staff.
pub fn computed_charges(facts: &ReturnFacts) -> Vec<Charge> {
    let mut lines = Vec::new();
    let rate = facts.daily_rate;
    if let Some(rental) = rate.checked_mul(i64::from(facts.booked_days)) {
        lines.push(Charge {
            kind: ChargeKind::Rental,
            description: format!("Sewa {} hari × {rate}", facts.booked_days),
            amount: rental,
        });
    }
    if facts.early_days > 0
        && let Some(extra) = rate.checked_mul(i64::from(facts.early_days))
    {
        lines.push(Charge {
            kind: ChargeKind::ExtraDays,
            description: format!(
                "Tambahan {} hari (ambil lebih awal) × {rate}",
                facts.early_days
            ),
            amount: extra,
        });
    }
    let late_minutes = (facts.returned_at - facts.due_at).num_minutes();
    if let Ok(late_minutes) = u64::try_from(late_minutes) {
        let fee = facts.late_fee.fee(late_minutes);
        if fee > Money::ZERO {
            lines.push(Charge {
                kind: ChargeKind::LateFee,
                description: format!(
                    "Keterlambatan {} jam {} menit",
                    late_minutes / 60,
                    late_minutes % 60
                ),
                amount: fee,
            });
        }
    }
    let missing = facts.fuel_out_eighths.saturating_sub(facts.fuel_in_eighths);
    if missing > 0
        && facts.fuel_per_eighth > Money::ZERO
        && let Some(fuel) = facts.fuel_per_eighth.checked_mul(i64::from(missing))
    {
        lines.push(Charge {
            kind: ChargeKind::Fuel,
            description: format!(
                "Bahan bakar kurang {missing}/8 (ambil {}/8, kembali {}/8)",
                facts.fuel_out_eighths, facts.fuel_in_eighths
            ),
            amount: fuel,
        });
    }
    lines
}

/// The sum of `lines`, or `None` if it does not fit.
pub fn total(lines: &[Charge]) -> Option<Money> {
    lines
        .iter()
        .try_fold(Money::ZERO, |sum, line| sum.checked_add(line.amount))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn rp(n: i64) -> Money {
        Money::from_rupiah(n)
    }

    const RULE: LateFeeRule = LateFeeRule {
        grace_minutes: 60,
        per_hour_idr: 50_000,
        daily_cap_idr: 350_000,
    };

    fn facts(late_minutes: i64, fuel_in: u8) -> ReturnFacts {
        let due_at = Utc
            .with_ymd_and_hms(2026, 12, 4, 5, 0, 0)
            .single()
            .expect("time");
        ReturnFacts {
            daily_rate: rp(350_000),
            booked_days: 3,
            early_days: 0,
            due_at,
            returned_at: due_at + chrono::Duration::minutes(late_minutes),
            late_fee: RULE,
            fuel_out_eighths: 6,
            fuel_in_eighths: fuel_in,
            fuel_per_eighth: rp(75_000),
        }
    }

    #[test]
    fn the_quote_holds_the_rental_and_the_deposit() {
        let q = quote(rp(350_000), 3, rp(1_000_000)).expect("fits");
        assert_eq!((q.rental, q.hold), (rp(1_050_000), rp(2_050_000)));
        assert_eq!(quote(Money::from_rupiah(i64::MAX), 2, rp(0)), None);
    }

    #[test]
    fn an_on_time_full_tank_return_costs_the_rental_only() {
        let lines = computed_charges(&facts(30, 6));
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].kind, ChargeKind::Rental);
        assert_eq!(total(&lines), Some(rp(1_050_000)));
    }

    #[test]
    fn a_late_return_with_less_fuel_adds_a_late_fee_and_fuel() {
        // 4 h 10 min late: grace 60 min, then 4 started hours at Rp 50.000.
        let mut f = facts(250, 4);
        f.early_days = 1;
        let lines = computed_charges(&f);
        let kinds: Vec<_> = lines.iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            [
                ChargeKind::Rental,
                ChargeKind::ExtraDays,
                ChargeKind::LateFee,
                ChargeKind::Fuel
            ]
        );
        assert_eq!(lines[1].amount, rp(350_000));
        assert_eq!(lines[2].amount, rp(200_000));
        assert_eq!(lines[2].description, "Keterlambatan 4 jam 10 menit");
        assert_eq!(lines[3].amount, rp(150_000));
        assert_eq!(total(&lines), Some(rp(1_750_000)));
        // More fuel than at pickup is not credited.
        assert_eq!(computed_charges(&facts(0, 8)).len(), 1);
    }
}
