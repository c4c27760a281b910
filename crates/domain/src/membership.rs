//! Membership tiers: how loyal a customer is, and so where they stand in a waitlist queue.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A customer's membership tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MembershipTier {
    Regular,
    Silver,
    Gold,
    Platinum,
}

/// A stored tier this version does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown membership tier {0:?}")]
pub struct UnknownTier(pub String);

impl MembershipTier {
    /// Every tier, lowest first.
    pub const ALL: [MembershipTier; 4] = [
        MembershipTier::Regular,
        MembershipTier::Silver,
        MembershipTier::Gold,
        MembershipTier::Platinum,
    ];

    /// As stored and sent.
    pub const fn as_str(self) -> &'static str {
        match self {
            MembershipTier::Regular => "regular",
            MembershipTier::Silver => "silver",
            MembershipTier::Gold => "gold",
            MembershipTier::Platinum => "platinum",
        }
    }

    /// The tier's place in a waitlist queue: 0 is served first (platinum), 3 last (regular).
    pub const fn waitlist_rank(self) -> u8 {
        match self {
            MembershipTier::Platinum => 0,
            MembershipTier::Gold => 1,
            MembershipTier::Silver => 2,
            MembershipTier::Regular => 3,
        }
    }
}

impl fmt::Display for MembershipTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for MembershipTier {
    type Err = UnknownTier;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|tier| tier.as_str() == name)
            .ok_or_else(|| UnknownTier(name.to_owned()))
    }
}

impl TryFrom<String> for MembershipTier {
    type Error = UnknownTier;

    /// Reads a stored tier (how rows decode it).
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_tiers_are_served_first_and_names_read_back() {
        let mut served: Vec<MembershipTier> = MembershipTier::ALL.to_vec();
        served.sort_by_key(|t| t.waitlist_rank());
        assert_eq!(
            served,
            [
                MembershipTier::Platinum,
                MembershipTier::Gold,
                MembershipTier::Silver,
                MembershipTier::Regular
            ]
        );
        for tier in MembershipTier::ALL {
            assert_eq!(tier.as_str().parse::<MembershipTier>(), Ok(tier));
        }
        assert!("diamond".parse::<MembershipTier>().is_err());
    }
}
