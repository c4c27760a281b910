//! The `SentraRental` domain: the vocabulary shared by the server, the wire protocol and the
//! branch desktop app.
//!
//! It owns the named states (booking, asset, KYC, waitlist, roles), Rupiah amounts, branch time
//! zones and rental date ranges, the booking lifecycle and the rental's handovers (pickup, return,
//! overdue), inspection records with their tamper-proof hash, maintenance projections, deposit
//! holds and their ledger, the Indonesian NIK, and canonical JSON with the evidence hashes built
//! on it. Invalid values are unrepresentable: anything that can be wrong is built by a constructor
//! that returns `Result`.
//!
//! The crate is pure on purpose: no I/O, no async runtime, no database or network access, and
//! no reading of the clock except when minting a new id. Callers pass "today" in where a rule
//! depends on it, so every rule here is deterministic and cheap to test.

pub mod access;
pub mod booking;
pub mod calendar;
pub mod charges;
pub mod evidence;
pub mod handover;
pub mod inspection;
pub mod inventory;
pub mod jobs;
pub mod kyc;
pub mod label;
pub mod maintenance;
pub mod membership;
pub mod money;
pub mod names;
pub mod nik;
pub mod notification;
pub mod payment;
pub mod text;
pub mod waitlist;

pub use access::{Role, SubjectKind};
pub use booking::{BookingKind, BookingStatus, IllegalTransition};
pub use calendar::{BranchTimeZone, DateRange, occupied_until};
pub use evidence::{EvidenceHash, canonical_json, evidence_hash};
pub use inspection::{DamageSeverity, InspectionKind, InspectionRecord};
pub use inventory::{AssetStatus, ChecklistItem, LateFeeRule, SkuCategory, UnknownAssetStatus};
pub use jobs::{JobKind, UnknownJobKind};
pub use kyc::{
    ActorKind, CustomerKycStatus, DocumentAction, IdentityDocument, KycCaseStatus, KycProvider,
    KycRejectReason,
};
pub use membership::{MembershipTier, UnknownTier};
pub use money::Money;
pub use names::UnknownName;
pub use nik::{Gender, Nik};
pub use text::{TextError, TextRule};
pub use uuid::Uuid;
pub use waitlist::WaitlistStatus;
