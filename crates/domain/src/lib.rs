//! The `SentraRental` domain: the vocabulary shared by the server, the wire protocol and the
//! branch desktop app.
//!
//! It owns typed entity ids, Rupiah amounts, branch time zones and rental date ranges, the
//! booking lifecycle, the Indonesian NIK, and canonical JSON with the evidence hashes built on
//! it. Invalid values are unrepresentable: anything that can be wrong is built by a constructor
//! that returns `Result`.
//!
//! The crate is pure on purpose: no I/O, no async runtime, no database or network access, and
//! no reading of the clock except when minting a new id. Callers pass "today" in where a rule
//! depends on it, so every rule here is deterministic and cheap to test.

pub mod booking;
pub mod calendar;
pub mod evidence;
pub mod ids;
pub mod inventory;
pub mod jobs;
pub mod label;
pub mod membership;
pub mod money;
pub mod nik;

pub use booking::{BookingStatus, IllegalTransition};
pub use calendar::{BranchTimeZone, DateRange, occupied_until};
pub use evidence::{EvidenceHash, canonical_json, evidence_hash};
pub use ids::{AssetId, BookingId, BranchId, CustomerId, IdParseError, SkuId, UserId};
pub use inventory::{AssetStatus, ChecklistItem, LateFeeRule, SkuCategory, UnknownAssetStatus};
pub use jobs::{JobKind, UnknownJobKind};
pub use membership::{MembershipTier, UnknownTier};
pub use money::Money;
pub use nik::{Gender, Nik};
pub use uuid::Uuid;
