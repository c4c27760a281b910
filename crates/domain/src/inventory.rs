//! What a branch rents out: SKU categories, asset statuses, the late-return fee rule and the
//! pickup/return checklist template each SKU carries.

use serde::{Deserialize, Serialize};

use crate::money::Money;

crate::stored_enum! {
    /// What kind of thing a SKU is.
    pub enum SkuCategory as "SKU category" {
        Car = "car",
        Motorbike = "motorbike",
        Equipment = "equipment",
    }
}

/// Whether an asset can be rented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AssetStatus {
    /// In the fleet and bookable.
    Active,
    /// In the workshop: not offered until it is active again.
    Maintenance,
    /// Gone for good (sold, written off). Kept for history, never offered.
    Retired,
}

impl AssetStatus {
    /// As stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            AssetStatus::Active => "active",
            AssetStatus::Maintenance => "maintenance",
            AssetStatus::Retired => "retired",
        }
    }

    /// Parses a stored or sent status.
    pub fn parse(value: &str) -> Option<Self> {
        [Self::Active, Self::Maintenance, Self::Retired]
            .into_iter()
            .find(|s| s.as_str() == value)
    }

    /// Whether the asset can be booked.
    pub fn is_rentable(self) -> bool {
        self == AssetStatus::Active
    }

    /// Whether the asset may move to `next`. A retired asset stays retired.
    pub fn can_become(self, next: AssetStatus) -> bool {
        self != AssetStatus::Retired || next == AssetStatus::Retired
    }
}

impl std::fmt::Display for AssetStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// A stored asset status this version does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown asset status {0:?}")]
pub struct UnknownAssetStatus(pub String);

impl TryFrom<String> for AssetStatus {
    type Error = UnknownAssetStatus;

    /// Reads a stored status (how rows decode it).
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).ok_or(UnknownAssetStatus(value))
    }
}

/// How a late return is charged: nothing within the grace period, then an hourly fee, and per
/// started late day never more than the daily cap (usually the SKU's daily rate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LateFeeRule {
    /// Minutes after the agreed return time that cost nothing.
    pub grace_minutes: u32,
    /// Fee per started hour after the grace period, in Rupiah.
    pub per_hour_idr: i64,
    /// Most that one late day (24 h) can cost, in Rupiah.
    pub daily_cap_idr: i64,
}

/// Why a late-fee rule is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LateFeeRuleError {
    #[error("the grace period must be at most 24 hours (1440 minutes)")]
    GraceTooLong,
    #[error("the hourly fee must not be negative")]
    NegativeHourlyFee,
    #[error("the daily cap must not be less than the hourly fee")]
    CapBelowHourlyFee,
}

impl LateFeeRule {
    /// Checks the rule's numbers.
    pub fn validate(&self) -> Result<(), LateFeeRuleError> {
        if self.grace_minutes > 24 * 60 {
            return Err(LateFeeRuleError::GraceTooLong);
        }
        if self.per_hour_idr < 0 {
            return Err(LateFeeRuleError::NegativeHourlyFee);
        }
        if self.daily_cap_idr < self.per_hour_idr {
            return Err(LateFeeRuleError::CapBelowHourlyFee);
        }
        Ok(())
    }

    /// The fee for returning `late_minutes` after the agreed time.
    ///
    /// Whole late days cost the cap each; the rest of the lateness (after the grace period,
    /// which applies once) costs `per_hour_idr` per started hour, capped at one day.
    pub fn fee(&self, late_minutes: u64) -> Money {
        let chargeable = late_minutes.saturating_sub(u64::from(self.grace_minutes));
        if chargeable == 0 {
            return Money::ZERO;
        }
        let whole_days = chargeable / (24 * 60);
        let rest_minutes = chargeable % (24 * 60);
        let started_hours = rest_minutes.div_ceil(60);
        let per_hour = u64::try_from(self.per_hour_idr).unwrap_or(0);
        let cap = u64::try_from(self.daily_cap_idr).unwrap_or(0);
        let total = whole_days
            .saturating_mul(cap)
            .saturating_add(started_hours.saturating_mul(per_hour).min(cap));
        Money::from_rupiah(i64::try_from(total).unwrap_or(i64::MAX))
    }
}

/// One line of the pickup/return checklist an inspector works through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistItem {
    /// Stable key the handover record refers to (`lowercase_with_underscores`).
    pub key: String,
    /// The line as shown in Bahasa Indonesia.
    pub label_id: String,
    /// The line as shown in English.
    pub label_en: String,
    /// Whether the inspector must attach a photo.
    #[serde(default)]
    pub requires_photo: bool,
}

/// Why a checklist template is refused; names the offending line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChecklistError {
    #[error("a checklist has at most {max} lines")]
    TooLong { max: usize },
    #[error("line {line}: the key must be 1-40 lowercase letters, digits or underscores")]
    BadKey { line: usize },
    #[error("line {line}: the key is used by an earlier line")]
    DuplicateKey { line: usize },
    #[error("line {line}: both labels need 1-120 characters")]
    BadLabel { line: usize },
}

/// Most lines in one checklist.
pub const MAX_CHECKLIST_ITEMS: usize = 60;

/// Checks a checklist template: keys well-formed and unique, labels present.
pub fn validate_checklist(items: &[ChecklistItem]) -> Result<(), ChecklistError> {
    if items.len() > MAX_CHECKLIST_ITEMS {
        return Err(ChecklistError::TooLong {
            max: MAX_CHECKLIST_ITEMS,
        });
    }
    let mut seen = std::collections::HashSet::new();
    for (index, item) in items.iter().enumerate() {
        let line = index + 1;
        let key_ok = (1..=40).contains(&item.key.len())
            && item
                .key
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !key_ok {
            return Err(ChecklistError::BadKey { line });
        }
        if !seen.insert(item.key.as_str()) {
            return Err(ChecklistError::DuplicateKey { line });
        }
        let label_ok = |l: &str| (1..=120).contains(&l.trim().chars().count());
        if !label_ok(&item.label_id) || !label_ok(&item.label_en) {
            return Err(ChecklistError::BadLabel { line });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: LateFeeRule = LateFeeRule {
        grace_minutes: 60,
        per_hour_idr: 50_000,
        daily_cap_idr: 350_000,
    };

    #[test]
    fn late_fees_respect_grace_started_hours_and_the_daily_cap() {
        let fee = |m| RULE.fee(m).rupiah();
        assert_eq!(fee(0), 0);
        assert_eq!(fee(60), 0, "inside the grace period");
        assert_eq!(fee(61), 50_000, "one started hour");
        assert_eq!(fee(60 + 120), 100_000);
        assert_eq!(fee(60 + 600), 350_000, "ten hours hit the cap");
        assert_eq!(fee(60 + 24 * 60), 350_000, "one whole day");
        assert_eq!(fee(60 + 24 * 60 + 30), 400_000, "a day and a started hour");
    }

    #[test]
    fn late_fee_rules_are_checked() {
        assert_eq!(RULE.validate(), Ok(()));
        let bad = LateFeeRule {
            daily_cap_idr: 10,
            ..RULE
        };
        assert_eq!(bad.validate(), Err(LateFeeRuleError::CapBelowHourlyFee));
        let bad = LateFeeRule {
            grace_minutes: 2_000,
            ..RULE
        };
        assert_eq!(bad.validate(), Err(LateFeeRuleError::GraceTooLong));
    }

    fn item(key: &str) -> ChecklistItem {
        ChecklistItem {
            key: key.to_owned(),
            label_id: "Ban serep".to_owned(),
            label_en: "Spare tyre".to_owned(),
            requires_photo: false,
        }
    }

    #[test]
    fn checklists_need_unique_well_formed_keys() {
        assert_eq!(
            validate_checklist(&[item("spare_tyre"), item("jack")]),
            Ok(())
        );
        assert_eq!(
            validate_checklist(&[item("jack"), item("jack")]),
            Err(ChecklistError::DuplicateKey { line: 2 })
        );
        assert_eq!(
            validate_checklist(&[item("Spare Tyre")]),
            Err(ChecklistError::BadKey { line: 1 })
        );
        let mut blank = item("jack");
        blank.label_en = " ".to_owned();
        assert_eq!(
            validate_checklist(&[blank]),
            Err(ChecklistError::BadLabel { line: 1 })
        );
    }

    #[test]
    fn retired_assets_stay_retired() {
        assert!(AssetStatus::Active.can_become(AssetStatus::Maintenance));
        assert!(AssetStatus::Maintenance.can_become(AssetStatus::Active));
        assert!(!AssetStatus::Retired.can_become(AssetStatus::Active));
        assert_eq!(
            SkuCategory::parse("motorbike"),
            Some(SkuCategory::Motorbike)
        );
        assert_eq!(AssetStatus::parse("scrapped"), None);
    }
}
