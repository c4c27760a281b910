//! Typed identifiers for the domain's entities.
//!
//! Every entity id is a UUID wrapped in its own newtype, so a `BookingId` can never be passed
//! where an `AssetId` is expected. New ids are UUID v7 (time-ordered), which keeps database
//! indexes compact; ids serialize as their plain hyphenated UUID string.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why a string could not be parsed as an entity id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {input:?}: {source}")]
pub struct IdParseError {
    kind: &'static str,
    input: String,
    #[source]
    source: uuid::Error,
}

impl IdParseError {
    /// The id type that was being parsed, e.g. `"BookingId"`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The rejected input, as given.
    pub fn input(&self) -> &str {
        &self.input
    }
}

macro_rules! uuid_id {
    ($(#[$attr:meta])* $name:ident) => {
        $(#[$attr])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        // A `Default` that silently mints a fresh random id would be surprising, so there is none.
        #[allow(clippy::new_without_default)]
        impl $name {
            /// Mints a fresh, time-ordered (UUID v7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID, e.g. one read back from the database.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;

            /// Accepts any textual UUID form the `uuid` crate understands (hyphenated, simple,
            /// braced or URN); `Display` always writes the lowercase hyphenated form.
            fn from_str(input: &str) -> Result<Self, Self::Err> {
                Uuid::try_parse(input).map(Self).map_err(|source| IdParseError {
                    kind: stringify!($name),
                    input: input.to_owned(),
                    source,
                })
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

uuid_id! {
    /// Identifies one branch (outlet) of a rental business.
    BranchId
}

uuid_id! {
    /// Identifies a stock-keeping unit: a kind of rentable item, e.g. "Honda Vario 125".
    SkuId
}

uuid_id! {
    /// Identifies one physical rentable asset, e.g. the scooter with a given plate number.
    AssetId
}

uuid_id! {
    /// Identifies a customer (renter).
    CustomerId
}

uuid_id! {
    /// Identifies a staff user of the system.
    UserId
}

uuid_id! {
    /// Identifies a booking.
    BookingId
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "0190f0b4-3c1e-7a2b-8c3d-4e5f6a7b8c9d";

    #[test]
    fn new_ids_are_version_7_and_distinct() {
        let first = BookingId::new();
        let second = BookingId::new();
        assert_eq!(first.as_uuid().get_version_num(), 7);
        assert_ne!(first, second);
    }

    #[test]
    fn display_and_from_str_round_trip() {
        let id: AssetId = SAMPLE.parse().expect("valid uuid");
        assert_eq!(id.to_string(), SAMPLE);
        assert_eq!(id.to_string().parse::<AssetId>(), Ok(id));
    }

    #[test]
    fn from_str_normalises_to_lowercase_hyphenated() {
        let id: SkuId = "0190F0B43C1E7A2B8C3D4E5F6A7B8C9D"
            .parse()
            .expect("simple uppercase form is a valid uuid");
        assert_eq!(id.to_string(), SAMPLE);
    }

    #[test]
    fn from_str_rejects_junk_and_names_the_id_type() {
        let error = "not-a-uuid".parse::<CustomerId>().expect_err("junk");
        assert_eq!(error.kind(), "CustomerId");
        assert_eq!(error.input(), "not-a-uuid");
        assert!(error.to_string().contains("CustomerId"));
        assert!("".parse::<UserId>().is_err());
    }

    #[test]
    fn serde_is_a_plain_uuid_string() {
        let id = BranchId::from_uuid(Uuid::parse_str(SAMPLE).expect("valid uuid"));
        let json = serde_json::to_string(&id).expect("serializes");
        assert_eq!(json, format!("\"{SAMPLE}\""));
        let back: BranchId = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, id);
        assert!(serde_json::from_str::<BranchId>("\"nope\"").is_err());
    }

    #[test]
    fn uuid_conversions_preserve_the_value() {
        let uuid = Uuid::parse_str(SAMPLE).expect("valid uuid");
        let id = UserId::from(uuid);
        assert_eq!(Uuid::from(id), uuid);
        assert_eq!(id.as_uuid(), uuid);
    }

    #[test]
    fn later_ids_sort_after_earlier_ones() {
        let earlier = Uuid::parse_str("0190f0b4-3c1e-7a2b-8c3d-4e5f6a7b8c9d").expect("uuid");
        let later = Uuid::parse_str("0190f0b5-0000-7000-8000-000000000000").expect("uuid");
        assert!(BookingId::from_uuid(earlier) < BookingId::from_uuid(later));
    }
}
