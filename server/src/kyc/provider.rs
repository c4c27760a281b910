//! Who verifies a customer's identity: the [`KycProvider`] trait, the manual-review provider (staff
//! decide) and the rules every provider's answer goes through (the KTP's printed data must agree
//! with its NIK).

use chrono::NaiveDate;
pub use sentra_domain::KycRejectReason;
use sentra_domain::{Gender, KycProvider as ProviderName, Nik};
use serde::Serialize;

/// What the customer submitted (already checked locally: a structurally valid NIK).
#[derive(Debug)]
pub struct Submission<'a> {
    pub nik: &'a Nik,
    /// The name as printed on the KTP.
    pub full_name: &'a str,
    pub ktp_image: &'a [u8],
    pub selfie_image: &'a [u8],
}

/// What a provider concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assessment {
    /// Identity confirmed.
    Verified(Checks),
    /// Identity not confirmed; `reason` is a stable code shown to staff and the customer.
    Rejected {
        reason: KycRejectReason,
        checks: Checks,
    },
    /// A person must look at the documents.
    NeedsReview(Checks),
}

/// The results of each check a provider ran (kept after the images are purged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Checks {
    /// The KTP read by OCR agrees with the NIK typed by the customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ocr_nik_matches: Option<bool>,
    /// The KTP's birth date and gender agree with what its NIK encodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ktp_consistent: Option<bool>,
    /// Government data check, per field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_nik: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_name: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_birth_date: Option<bool>,
    /// Face compare of the KTP photo with the selfie, and its liveness check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub face_match: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness: Option<bool>,
    /// The provider's reference of this verification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_reference: Option<String>,
}

/// Why a provider could not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum KycError {
    /// A photo is unreadable; the customer should take it again. `which` is `ktp` or `selfie`.
    #[error("the {which} photo is not clear enough ({detail}); please take it again")]
    ImageQuality { which: &'static str, detail: String },
    /// The NIK typed differs from the one on the KTP photo.
    #[error("the NIK you typed does not match the KTP photo")]
    NikDiffersFromKtp,
    /// The provider's quota is used up (operators must top it up).
    #[error("the verification service's quota is used up")]
    QuotaExhausted,
    /// The provider refused our credentials (a configuration error).
    #[error("the verification service refused our credentials")]
    Unauthorized,
    /// The provider did not answer usefully (down, timeout, unexpected answer).
    #[error("the verification service is unavailable: {0}")]
    Unavailable(String),
}

/// A KYC provider.
#[async_trait::async_trait]
pub trait KycProvider: Send + Sync + std::fmt::Debug {
    /// Which provider this is (stored with each case).
    fn name(&self) -> ProviderName;

    /// Assesses one submission.
    async fn assess(&self, submission: &Submission<'_>) -> Result<Assessment, KycError>;
}

/// Staff look at the KTP and the selfie and decide (see the review endpoints).
#[derive(Debug, Default)]
pub struct ManualReview;

#[async_trait::async_trait]
impl KycProvider for ManualReview {
    fn name(&self) -> ProviderName {
        ProviderName::Manual
    }

    async fn assess(&self, _submission: &Submission<'_>) -> Result<Assessment, KycError> {
        Ok(Assessment::NeedsReview(Checks::default()))
    }
}

/// Whether what a KTP shows (read by OCR) agrees with the birth date and gender its NIK encodes.
/// A mismatch means the card was altered or misread; either way it cannot verify anyone.
pub fn ktp_agrees_with_nik(
    nik: &Nik,
    printed_birth_date: NaiveDate,
    printed_gender: Gender,
) -> bool {
    nik.birth_date() == printed_birth_date && nik.gender() == printed_gender
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_birth_date_and_gender_must_match_the_nik() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
        let nik = Nik::parse("3171015708450001", today).expect("valid NIK");
        let born = NaiveDate::from_ymd_opt(1945, 8, 17).expect("date");
        assert!(ktp_agrees_with_nik(&nik, born, Gender::Female));
        assert!(
            !ktp_agrees_with_nik(&nik, born, Gender::Male),
            "gender differs"
        );
        let other_day = NaiveDate::from_ymd_opt(1945, 8, 18).expect("date");
        assert!(
            !ktp_agrees_with_nik(&nik, other_day, Gender::Female),
            "birth date differs"
        );
    }
}
