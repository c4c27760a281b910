//! KTP verification under UU PDP: explicit consent first ([`consent`]), local NIK rules, a
//! [`provider::KycProvider`] (Verihubs, or staff review), identity documents encrypted per object
//! ([`vault`]) in object storage, every access to them logged, and raw images purged after the
//! retention period while the result stays ([`service`]).

pub mod attempts;
pub mod consent;
pub mod provider;
pub mod retention;
pub mod service;
pub mod vault;
pub mod verihubs;

pub use provider::{KycProvider, ManualReview};
pub use service::{Actor, Kyc};
pub use verihubs::Verihubs;
