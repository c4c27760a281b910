//! The error-code table and the RFC 9457 problem document every failing response carries.
//!
//! Codes are part of the contract: clients branch on `code`, never on `title` or `detail`, so a
//! code is never renamed or reused. Add new ones at the end of the table.

use serde::{Deserialize, Serialize};

/// Documented by hand: the schema lists the codes as sent (`not_found`), which a derive cannot
/// see through the table's macro.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("Stable, machine-readable error code"))
            .enum_values(Some(ErrorCode::ALL.iter().map(|code| code.as_str())))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for ErrorCode {}

/// Media type of an error body (RFC 9457).
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = ($code:literal, $status:literal, $title:literal), )+) => {
        /// Stable, machine-readable error codes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ErrorCode {
            $( $(#[$doc])* #[serde(rename = $code)] $variant, )+
        }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The code as it appears on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)+ }
            }

            /// HTTP status the server answers with for this code.
            pub fn http_status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status,)+ }
            }

            /// Short, human-readable summary (English; clients translate by code).
            pub fn title(self) -> &'static str {
                match self { $(ErrorCode::$variant => $title,)+ }
            }
        }
    };
}

error_codes! {
    /// The request body, query or path failed validation; `errors` lists the fields.
    ValidationFailed = ("validation_failed", 422, "The request is not valid"),
    /// The request could not be parsed at all (malformed JSON, wrong content type).
    BadRequest = ("bad_request", 400, "The request could not be understood"),
    /// No credentials, or credentials that are not valid.
    Unauthorized = ("unauthorized", 401, "Authentication is required"),
    /// Authenticated, but this role or branch may not do this.
    Forbidden = ("forbidden", 403, "You are not allowed to do this"),
    /// No such resource (or one the caller may not know exists).
    NotFound = ("not_found", 404, "Not found"),
    /// The HTTP method is not supported on this path.
    MethodNotAllowed = ("method_not_allowed", 405, "Method not allowed"),
    /// The request conflicts with the current state of the resource.
    Conflict = ("conflict", 409, "The request conflicts with the current state"),
    /// The asset is already booked for (part of) the requested dates.
    BookingConflict = ("booking_conflict", 409, "The asset is not available for these dates"),
    /// Another booking of the same asset is being processed right now; retry shortly.
    AssetBeingBooked = ("asset_being_booked", 409, "The asset is being booked by someone else"),
    /// The body is larger than the server accepts.
    PayloadTooLarge = ("payload_too_large", 413, "The request body is too large"),
    /// The payment window of a pending booking lapsed before it was confirmed.
    HoldExpired = ("hold_expired", 409, "The payment window has lapsed"),
    /// The booking's status does not allow this action (e.g. cancelling a completed rental).
    InvalidState = ("invalid_state", 409, "Not possible in the booking's current state"),
    /// A create request came without an `Idempotency-Key` header.
    IdempotencyKeyRequired = ("idempotency_key_required", 400, "An Idempotency-Key header is required"),
    /// The `Idempotency-Key` was already used with a different request body.
    IdempotencyKeyReused = ("idempotency_key_reused", 422, "This Idempotency-Key was used for another request"),
    /// A request with the same `Idempotency-Key` is still being processed.
    RequestInProgress = ("request_in_progress", 409, "The same request is still being processed"),
    /// Too many requests; see `Retry-After`.
    RateLimited = ("rate_limited", 429, "Too many requests"),
    /// Something failed inside the server; the detail is in the server log, not here.
    Internal = ("internal_error", 500, "Something went wrong on our side"),
    /// A dependency (database, cache) is unavailable; retry later.
    ServiceUnavailable = ("service_unavailable", 503, "The service is temporarily unavailable"),
    /// The server took too long to answer.
    Timeout = ("timeout", 504, "The request took too long"),
    /// A scanned QR code is not a genuine SentraRental code, or an outdated label.
    InvalidLabel = ("invalid_label", 422, "This QR code is not valid"),
    /// The asset is out on a rental (or the rental has started); finish it first.
    AssetInUse = ("asset_in_use", 409, "The asset is in use"),
    /// Identity documents may only be uploaded after the customer consented to their processing.
    ConsentRequired = ("consent_required", 409, "Consent to process identity documents is required"),
    /// An identity photo is too blurry, dark or otherwise unreadable; take it again.
    ImageQuality = ("image_quality", 422, "The photo is not clear enough"),
    /// The dates are held for another customer who has not paid yet; `held_until` says until
    /// when. Clients show "Aset sedang dipesan pengguna lain" and offer the waitlist.
    AssetHeld = ("asset_held", 409, "The asset is being booked by another customer"),
    /// The asset moved to another branch while it was being booked. Nothing was decided: search
    /// again (a retry with the same `Idempotency-Key` runs afresh).
    AssetMoved = ("asset_moved", 409, "The asset just moved to another branch"),
    /// The asset is in the workshop or retired: it cannot be booked whatever the dates.
    AssetNotRentable = ("asset_not_rentable", 409, "The asset cannot be rented now"),
    /// No unit of the model is free for these dates (in the branch asked, or anywhere); checked
    /// in the database. Clients offer other dates, another branch, or the waitlist.
    SoldOut = ("sold_out", 409, "No unit of this model is free for these dates"),
    /// Joining the waitlist for dates on which a unit is free (checked in the database): the
    /// answer is to book it. `detail` says how many are free.
    UnitsAvailable = ("units_available", 409, "A unit is free for these dates; book it instead"),
    /// A sync call without a registered device's token (`X-Sentra-Device`), or with one of
    /// another branch than the caller's.
    DeviceNotRegistered = ("device_not_registered", 403, "This device is not registered for the branch"),
    /// The record changed since the device read it (an offline change on top of an old copy).
    StaleRecord = ("stale_record", 409, "The record changed since you last synced"),
    /// The device was revoked by HQ; register it again to sync.
    DeviceRevoked = ("device_revoked", 403, "This device was revoked"),
    /// The booking cannot be handed over now: before its first day without a reason, or after
    /// its period ended. `detail` says which.
    PickupNotAllowed = ("pickup_not_allowed", 409, "The booking cannot be picked up now"),
    /// The asset is in the workshop (a maintenance block or an open work order): it cannot be
    /// handed over.
    AssetInMaintenance = ("asset_in_maintenance", 409, "The asset is in maintenance"),
    /// A file a record refers to is not (completely) uploaded, or belongs to another branch.
    UploadIncomplete = ("upload_incomplete", 409, "The file upload is not complete"),
    /// The uploaded bytes do not match the checksum or size declared for them.
    ChecksumMismatch = ("checksum_mismatch", 422, "The uploaded file does not match its checksum"),
    /// The file is not one of the accepted types (JPEG, PNG, WebP images).
    UnsupportedMediaType = ("unsupported_media_type", 415, "This type of file is not accepted"),
    /// A record id was used before for a different record.
    RecordIdReused = ("record_id_reused", 409, "This record id was used for another record"),
    /// Maintenance over days with confirmed bookings: `detail` names them; send `reassign` to
    /// move them to another free unit, or pick other days.
    MaintenanceConflict = ("maintenance_conflict", 409, "Bookings hold the asset on these days"),
    /// The payment was authorised after the booking's payment window lapsed: the hold was
    /// voided at once and nothing is charged.
    PaymentWindowLapsed = ("payment_window_lapsed", 409, "The payment window lapsed; the hold was voided"),
    /// The provider refused the authorisation (`detail` gives its reason).
    PaymentDeclined = ("payment_declined", 402, "The payment was declined"),
    /// This branch takes deposits at the counter (cash or transfer), not online.
    PayAtCounter = ("pay_at_counter", 409, "This branch takes the deposit at the counter"),
    /// A held deposit must be settled (the return's charges confirmed) before completion.
    ChargesNotSettled = ("charges_not_settled", 409, "Confirm the return's charges first"),
    /// The charges changed since staff saw them: read them again and confirm the new total.
    ChargesChanged = ("charges_changed", 409, "The charges changed since they were shown"),
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One invalid input field of a `validation_failed` problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// Name of the field as sent (`start`, `period.end`, `header:Idempotency-Key`).
    pub field: String,
    /// What is wrong with it, for a person.
    pub message: String,
}

impl FieldError {
    /// A field error for `field` with a message for a person.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem document with SentraRental's stable `code` extension member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// URI identifying the problem type: `urn:sentra:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status code, repeated for convenience.
    pub status: u16,
    /// Explanation of this occurrence, safe to show to the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request path this occurrence came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The stable error code clients branch on.
    pub code: ErrorCode,
    /// Per-field validation errors (for `validation_failed`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Seconds after which retrying may succeed (busy asset, rate limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    /// Until when the dates are held for another customer's payment (`asset_held`). Who holds
    /// them is never said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_until: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether the caller can join the waitlist to be offered these dates if they free up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waitlist_available: Option<bool>,
}

impl Problem {
    /// A problem of `code` with its standard title and status and no detail.
    pub fn new(code: ErrorCode) -> Self {
        Self {
            problem_type: format!("urn:sentra:problem:{}", code.as_str()),
            title: code.title().to_owned(),
            status: code.http_status(),
            detail: None,
            instance: None,
            code,
            errors: Vec::new(),
            retry_after_seconds: None,
            held_until: None,
            waitlist_available: None,
        }
    }

    /// Adds a caller-safe explanation.
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Adds field errors.
    #[must_use]
    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case_and_map_to_error_statuses() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate code {code}");
            assert!(
                code.as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_')
            );
            assert!((400..600).contains(&code.http_status()));
            // The serde name and the table name must agree, or clients would see two spellings.
            let json = serde_json::to_value(code).expect("serialise");
            assert_eq!(json, serde_json::Value::String(code.as_str().to_owned()));
        }
    }

    #[test]
    fn problem_serialises_as_rfc9457_with_code() {
        let p = Problem::new(ErrorCode::NotFound).with_detail("No booking with this id");
        let json = serde_json::to_value(&p).expect("serialise");
        assert_eq!(json["type"], "urn:sentra:problem:not_found");
        assert_eq!(json["status"], 404);
        assert_eq!(json["code"], "not_found");
        assert_eq!(json["detail"], "No booking with this id");
        assert!(json.get("errors").is_none(), "empty lists are omitted");
        let back: Problem = serde_json::from_value(json).expect("parse back");
        assert_eq!(back, p);
    }
}
