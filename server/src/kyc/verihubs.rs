//! The Verihubs client: KTP OCR (`POST /v2/ktp/extract`), the government data check
//! (`POST /data-verification/id-verification/verify`) and face compare with liveness
//! (`POST /v1/face/compare`), authenticated with the `App-ID` and `API-Key` headers.
//!
//! The flow follows Verihubs' suggested order: OCR with quality validation, the local NIK rules
//! (the typed NIK must be the one on the card; the card's birth date and gender must agree with
//! it), the data check, then face compare of the KTP photo with the selfie.
//!
//! Where the public documentation leaves the response shape open (result fields at the top level
//! or under `data`; `DD-MM-YYYY` or ISO dates; `LAKI-LAKI`/`PEREMPUAN` or `MALE`/`FEMALE`), the
//! client accepts each variant. Failure modes: `403 INSUFFICIENT_QUOTA`, `401` for bad keys,
//! quality rejections (`image_quality` flags or a `*QUALITY*` error code), face-compare
//! `FAIL_ON_<bits>` codes (1 liveness, 2 attribute, 4 quality, 8 number of faces, 16 similarity),
//! and anything else as "unavailable". Images never appear in logs or errors.

use std::time::Duration;

use base64::Engine as _;
use chrono::NaiveDate;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use sentra_domain::{Gender, KycProvider as ProviderName};
use serde_json::{Value, json};

use super::provider::{
    Assessment, Checks, KycError, KycProvider, KycRejectReason, Submission, ktp_agrees_with_nik,
};

/// The Verihubs client.
#[derive(Debug, Clone)]
pub struct Verihubs {
    http: reqwest::Client,
    base_url: String,
    app_id: String,
    api_key: SecretString,
}

impl Verihubs {
    /// A client for `base_url` (`https://api.verihubs.com` in production).
    pub fn new(base_url: &str, app_id: &str, api_key: SecretString) -> anyhow::Result<Self> {
        Ok(Self {
            // No redirects: following one would resend the body (KTP photo, selfie, NIK) and the
            // API-Key to wherever it points.
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            base_url: base_url.trim_end_matches('/').to_owned(),
            app_id: app_id.to_owned(),
            api_key,
        })
    }

    /// POSTs `body` and returns the status and JSON answer (or `Unavailable`).
    async fn call(&self, path: &str, body: &Value) -> Result<(StatusCode, Value), KycError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base_url))
            .header("App-ID", &self.app_id)
            .header("API-Key", self.api_key.expose_secret())
            .json(body)
            .send()
            .await
            .map_err(|e| KycError::Unavailable(format!("{path}: {}", e.without_url())))?;
        let status = response.status();
        let json: Value = response.json().await.unwrap_or(Value::Null);
        match status {
            StatusCode::UNAUTHORIZED => Err(KycError::Unauthorized),
            StatusCode::FORBIDDEN | StatusCode::PAYMENT_REQUIRED
                if text_of(&json).contains("QUOTA") =>
            {
                Err(KycError::QuotaExhausted)
            }
            s if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS => Err(
                KycError::Unavailable(format!("{path} answered HTTP {}", s.as_u16())),
            ),
            s => Ok((s, json)),
        }
    }

    async fn extract_ktp(&self, image: &[u8]) -> Result<KtpData, KycError> {
        let body = json!({"image": base64(image), "validate_quality": true});
        let (status, answer) = self.call("/v2/ktp/extract", &body).await?;
        let fields = answer
            .get("data")
            .filter(|d| d.is_object())
            .unwrap_or(&answer);
        if let Some(detail) = quality_problem(&answer) {
            return Err(KycError::ImageQuality {
                which: "ktp",
                detail,
            });
        }
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            return Err(KycError::ImageQuality {
                which: "ktp",
                detail: "the card could not be read".to_owned(),
            });
        }
        if !status.is_success() {
            // Only the status: the provider's message could repeat personal data.
            return Err(KycError::Unavailable(format!(
                "/v2/ktp/extract answered HTTP {}",
                status.as_u16()
            )));
        }
        let nik = fields["nik"].as_str().unwrap_or_default().trim().to_owned();
        let birth_date = fields["date_of_birth"].as_str().and_then(parse_date);
        let gender = fields["gender"].as_str().and_then(parse_gender);
        match (nik.len(), birth_date, gender) {
            (16, Some(birth_date), Some(gender)) => Ok(KtpData {
                nik,
                birth_date,
                gender,
            }),
            _ => Err(KycError::ImageQuality {
                which: "ktp",
                detail: "the NIK, birth date or gender could not be read".to_owned(),
            }),
        }
    }
}

/// What the OCR read.
struct KtpData {
    nik: String,
    birth_date: NaiveDate,
    gender: Gender,
}

#[async_trait::async_trait]
impl KycProvider for Verihubs {
    fn name(&self) -> ProviderName {
        ProviderName::Verihubs
    }

    async fn assess(&self, submission: &Submission<'_>) -> Result<Assessment, KycError> {
        let mut checks = Checks::default();
        let ktp = self.extract_ktp(submission.ktp_image).await?;
        if ktp.nik != submission.nik.as_str() {
            return Err(KycError::NikDiffersFromKtp);
        }
        checks.ocr_nik_matches = Some(true);
        let consistent = ktp_agrees_with_nik(submission.nik, ktp.birth_date, ktp.gender);
        checks.ktp_consistent = Some(consistent);
        if !consistent {
            return Ok(Assessment::Rejected {
                reason: KycRejectReason::KtpInconsistentWithNik,
                checks,
            });
        }

        let reference = uuid::Uuid::now_v7().to_string();
        let body = json!({
            "nik": submission.nik.as_str(),
            "name": submission.full_name,
            "birth_date": ktp.birth_date.format("%d-%m-%Y").to_string(),
            "reference_id": reference,
        });
        let (status, answer) = self
            .call("/data-verification/id-verification/verify", &body)
            .await?;
        let data = &answer["data"];
        if !status.is_success() || !data.is_object() {
            return Err(KycError::Unavailable(format!(
                "id-verification answered HTTP {}",
                status.as_u16()
            )));
        }
        checks.data_nik = data["nik"].as_bool();
        checks.data_name = data["name"].as_bool();
        checks.data_birth_date = data["birth_date"].as_bool();
        checks.provider_reference = data["id"].as_str().map(str::to_owned).or(Some(reference));
        let confirmed = [checks.data_nik, checks.data_name, checks.data_birth_date]
            .iter()
            .all(|c| *c == Some(true));
        if !confirmed {
            return Ok(Assessment::Rejected {
                reason: KycRejectReason::IdentityNotConfirmed,
                checks,
            });
        }

        let body = json!({
            "image_1": base64(submission.ktp_image),
            "image_2": base64(submission.selfie_image),
            "is_liveness": true,
            "validate_liveness": true,
            "validate_quality": true,
            "validate_nface": true,
        });
        let (status, answer) = self.call("/v1/face/compare", &body).await?;
        if !status.is_success() {
            return Err(KycError::Unavailable(format!(
                "/v1/face/compare answered HTTP {}",
                status.as_u16()
            )));
        }
        let failed = fail_bits(&answer);
        if failed & (4 | 8) != 0 {
            return Err(KycError::ImageQuality {
                which: "selfie",
                detail: if failed & 8 != 0 {
                    "exactly one face must be visible".to_owned()
                } else {
                    "the face is not clear enough".to_owned()
                },
            });
        }
        checks.liveness = Some(failed & 1 == 0);
        let similar = answer["similarity_status"]
            .as_bool()
            .or_else(|| answer["data"]["similarity_status"].as_bool())
            .unwrap_or(false);
        checks.face_match = Some(similar && failed & 16 == 0);
        if failed & 1 != 0 {
            return Ok(Assessment::Rejected {
                reason: KycRejectReason::LivenessFailed,
                checks,
            });
        }
        if checks.face_match != Some(true) {
            return Ok(Assessment::Rejected {
                reason: KycRejectReason::FaceMismatch,
                checks,
            });
        }
        Ok(Assessment::Verified(checks))
    }
}

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The answer's message and error code, upper-cased, for matching.
fn text_of(answer: &Value) -> String {
    ["message", "error_code", "code", "status"]
        .iter()
        .filter_map(|k| answer[k].as_str())
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

/// The quality problem the OCR reported, if any.
fn quality_problem(answer: &Value) -> Option<String> {
    let flags = answer
        .get("image_quality")
        .or_else(|| answer["data"].get("image_quality"))
        .and_then(Value::as_object);
    let bad: Vec<&str> = flags
        .map(|f| {
            f.iter()
                .filter(|(_, v)| v.as_bool() == Some(true))
                .map(|(k, _)| k.as_str())
                .collect()
        })
        .unwrap_or_default();
    if !bad.is_empty() {
        return Some(bad.join(", "));
    }
    text_of(answer)
        .contains("QUALITY")
        .then(|| "low image quality".to_owned())
}

/// The `FAIL_ON_<bits>` code of a face-compare answer, as bits (0 when none).
fn fail_bits(answer: &Value) -> u32 {
    let text = text_of(answer) + " " + &text_of(&answer["data"]);
    text.split_whitespace()
        .find_map(|word| word.strip_prefix("FAIL_ON_"))
        .and_then(|bits| bits.parse().ok())
        .unwrap_or(0)
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%d-%m-%Y")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d"))
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .ok()
}

fn parse_gender(text: &str) -> Option<Gender> {
    match text.trim().to_uppercase().as_str() {
        "LAKI-LAKI" | "LAKI LAKI" | "MALE" | "L" => Some(Gender::Male),
        "PEREMPUAN" | "FEMALE" | "P" => Some(Gender::Female),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_genders_are_read_in_each_documented_form() {
        let day = NaiveDate::from_ymd_opt(1990, 2, 3);
        assert_eq!(parse_date("03-02-1990"), day);
        assert_eq!(parse_date("1990-02-03"), day);
        assert_eq!(parse_gender("Laki-Laki"), Some(Gender::Male));
        assert_eq!(parse_gender("PEREMPUAN"), Some(Gender::Female));
        assert_eq!(parse_gender("?"), None);
    }

    #[test]
    fn face_compare_failure_bits_are_decoded() {
        assert_eq!(fail_bits(&json!({"error_code": "FAIL_ON_17"})), 17);
        assert_eq!(fail_bits(&json!({"data": {"status": "FAIL_ON_4"}})), 4);
        assert_eq!(fail_bits(&json!({"message": "ok"})), 0);
    }
}
