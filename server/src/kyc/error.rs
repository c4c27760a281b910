//! What can go wrong in a KYC action, as the service sees it. `http/kyc.rs` maps each case to
//! one problem+json answer.

use sentra_protocol::FieldError;

use super::provider::KycError;

/// Why a KYC action failed.
#[derive(Debug, thiserror::Error)]
pub enum KycFailure {
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// No such verification, document or consent (or one the caller may not know about).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The document's images were deleted after the retention period; the result is kept.
    #[error("the document was deleted after the retention period")]
    Purged,
    /// The customer has not accepted the consent text (or withdrew it).
    #[error("consent to process identity documents is required")]
    ConsentRequired,
    /// This KTP already verified another account.
    #[error("the KTP already verified another account")]
    KtpUsedElsewhere,
    /// The verification was decided already.
    #[error("the verification was decided already")]
    AlreadyDecided,
    /// No verification rejected by the automated checks, with its photos still stored, to
    /// review again.
    #[error("nothing to review again")]
    NothingToReview,
    /// Too many attempts today; the next is possible in `retry_after_secs`.
    #[error("too many verification attempts today")]
    TooManyAttempts { per_day: i64, retry_after_secs: u64 },
    /// The provider's answer (unclear photo, NIK mismatch, or the provider failed).
    #[error(transparent)]
    Provider(#[from] KycError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}
