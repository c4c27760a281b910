//! KTP verification under UU PDP: explicit consent first ([`consent`]), local NIK rules, a
//! [`provider::KycProvider`] (Verihubs, or staff review), identity documents encrypted per object
//! ([`vault`]) in object storage, every access to them logged, and raw images purged after the
//! retention period while the result stays ([`service`]). Failures are a [`KycFailure`].

pub mod attempts;
pub mod consent;
pub mod documents;
mod error;
pub mod limits;
pub mod provider;
pub mod retention;
pub mod review_again;
pub mod rotate;
pub mod service;
pub mod vault;
pub mod verihubs;

pub use error::KycFailure;
pub use provider::{KycError, KycProvider, ManualReview};
pub use service::{Actor, Kyc};
pub use verihubs::Verihubs;
