//! KTP verification endpoints: the consent text and consent, the customer's submission and
//! status, and the staff side (review queue, documents, decisions, access log).

use axum::{
    Extension, Json,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use sentra_domain::{ActorKind, IdentityDocument};
use sentra_protocol::{
    AccessLog, Consent, ConsentText, ConsentWithdrawal, ErrorCode, FieldError, GiveConsentRequest,
    HumanReviewRequest, KycCase, KycCaseList, KycDecisionRequest, Problem, SubmitKycRequest,
};

use super::{
    extract::{ApiJson, path_id},
    rate_limit::ClientAddress,
};
use crate::{
    auth::{Principal, Role, SubjectKind},
    error::AppError,
    kyc::{Actor, consent},
    kyc::{KycError, KycFailure},
    state::AppState,
};

impl From<KycFailure> for AppError {
    fn from(err: KycFailure) -> Self {
        match err {
            KycFailure::Invalid(errors) => AppError::validation(errors),
            KycFailure::NotFound(what) => AppError::not_found(what),
            KycFailure::Purged => AppError::new(
                ErrorCode::NotFound,
                "This document was deleted after the retention period; the verification result is kept",
            ),
            KycFailure::ConsentRequired => AppError::new(
                ErrorCode::ConsentRequired,
                "Read and accept the consent text (GET /api/v1/kyc/consent) before uploading your KTP",
            ),
            KycFailure::KtpUsedElsewhere => AppError::new(
                ErrorCode::Conflict,
                "This KTP already verified another account; contact customer service",
            ),
            KycFailure::NothingToReview => AppError::new(
                ErrorCode::Conflict,
                "Your latest verification was not rejected by the automated checks, or its photos are deleted: submit your KTP again",
            ),
            KycFailure::AlreadyDecided => {
                AppError::new(ErrorCode::Conflict, "This verification was decided already")
            }
            KycFailure::TooManyAttempts {
                per_day,
                retry_after_secs,
            } => {
                let mut problem = Problem::new(ErrorCode::RateLimited).with_detail(format!(
                    "At most {per_day} verification attempts a day; try again later or ask a branch for help"
                ));
                problem.retry_after_seconds = Some(retry_after_secs);
                AppError::Client(Box::new(problem))
            }
            KycFailure::Provider(e @ KycError::ImageQuality { .. }) => {
                AppError::new(ErrorCode::ImageQuality, e.to_string())
            }
            KycFailure::Provider(e @ KycError::NikDiffersFromKtp) => {
                AppError::validation(vec![FieldError::new("nik", e.to_string())])
            }
            KycFailure::Provider(
                e @ (KycError::QuotaExhausted | KycError::Unauthorized | KycError::Unavailable(_)),
            ) => {
                tracing::error!(error = %e, "KYC provider failed");
                AppError::new(
                    ErrorCode::ServiceUnavailable,
                    "Identity verification is unavailable right now; nothing was stored, try again later",
                )
            }
            KycFailure::Database(e) => AppError::from(e),
            KycFailure::Internal(e) => AppError::Internal(e),
        }
    }
}

fn retention_days(state: &AppState) -> u32 {
    state.config.kyc.retention_days
}

pub(super) fn actor(principal: &Principal, address: Option<&Extension<ClientAddress>>) -> Actor {
    Actor {
        kind: match principal.kind {
            SubjectKind::Customer => ActorKind::Customer,
            SubjectKind::Staff => ActorKind::Staff,
        },
        id: Some(principal.id),
        client_ip: address.map(|a| a.0.0.to_string()),
    }
}

/// The consent text a customer must accept before uploading identity documents.
#[utoipa::path(get, path = "/api/v1/kyc/consent", tag = "kyc", responses((status = 200, body = ConsentText)))]
#[tracing::instrument(name = "http.kyc.consent_text", skip_all)]
pub async fn consent_text(State(state): State<AppState>) -> Json<ConsentText> {
    Json(consent::text(retention_days(&state)))
}

/// Records the customer's consent (version, text hash, time, address).
#[utoipa::path(post, path = "/api/v1/customers/me/consents", tag = "kyc", security(("bearer" = [])),
    request_body = GiveConsentRequest,
    responses((status = 201, body = Consent), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.kyc.give_consent", skip_all)]
pub async fn give_consent(
    State(state): State<AppState>,
    principal: Principal,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<GiveConsentRequest>,
) -> Result<(StatusCode, Json<Consent>), AppError> {
    let ip = address.map_or_else(|| "unknown".to_owned(), |a| a.0.0.to_string());
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let consent = consent::record(
        &state.db,
        principal.id,
        retention_days(&state),
        consent::Given {
            version: &body.version,
            sha256: &body.sha256,
            accepted: body.accepted,
        },
        &ip,
        user_agent,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(consent)))
}

/// Withdraws the consent: pending reviews close and the stored photos are deleted now.
#[utoipa::path(delete, path = "/api/v1/customers/me/consents/kyc", tag = "kyc", security(("bearer" = [])),
    responses((status = 200, body = ConsentWithdrawal),
        (status = 404, description = "No consent to withdraw", body = Problem)))]
#[tracing::instrument(name = "http.kyc.withdraw_consent", skip_all)]
pub async fn withdraw_consent(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<ConsentWithdrawal>, AppError> {
    Ok(Json(state.kyc.withdraw_consent(principal.id).await?))
}

/// Submits the KTP photo and a selfie for verification (after consent).
#[utoipa::path(post, path = "/api/v1/customers/me/kyc", tag = "kyc", security(("bearer" = [])),
    request_body = SubmitKycRequest,
    responses(
        (status = 201, description = "verified, rejected, or pending_review (manual review)", body = KycCase),
        (status = 409, description = "No consent yet (consent_required), or the KTP verified another account", body = Problem),
        (status = 413, body = Problem),
        (status = 422, description = "Invalid NIK or photos, or a photo too unclear (image_quality)", body = Problem),
        (status = 503, description = "The verification service is unavailable; nothing was stored", body = Problem)))]
#[tracing::instrument(name = "http.kyc.submit", skip_all)]
pub async fn submit(
    State(state): State<AppState>,
    principal: Principal,
    address: Option<Extension<ClientAddress>>,
    ApiJson(body): ApiJson<SubmitKycRequest>,
) -> Result<(StatusCode, Json<KycCase>), AppError> {
    let actor = actor(&principal, address.as_ref());
    let case = state.kyc.submit(principal.id, &body, &actor).await?;
    Ok((StatusCode::CREATED, Json(case)))
}

/// The customer's latest verification.
#[utoipa::path(get, path = "/api/v1/customers/me/kyc", tag = "kyc", security(("bearer" = [])),
    responses((status = 200, body = KycCase), (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.kyc.my_status", skip_all)]
pub async fn my_status(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<KycCase>, AppError> {
    Ok(Json(state.kyc.latest_of(principal.id).await?))
}

/// Verifications waiting for a reviewer, oldest first.
#[utoipa::path(get, path = "/api/v1/kyc/reviews", tag = "kyc", security(("bearer" = [])),
    responses((status = 200, body = KycCaseList), (status = 403, body = Problem)))]
#[tracing::instrument(name = "http.kyc.reviews", skip_all)]
pub async fn reviews(State(state): State<AppState>) -> Result<Json<KycCaseList>, AppError> {
    Ok(Json(KycCaseList {
        items: state.kyc.pending_reviews().await?,
    }))
}

/// One verification.
#[utoipa::path(get, path = "/api/v1/kyc/cases/{id}", tag = "kyc", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Verification id")),
    responses((status = 200, body = KycCase), (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.kyc.case", skip_all, fields(case = %id))]
pub async fn case(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<KycCase>, AppError> {
    let id = path_id(&id, "Verification")?;
    Ok(Json(state.kyc.case(id).await?))
}

/// A KTP image or selfie, decrypted for review. Every view is logged. KYC reviewers open any;
/// a branch admin only a customer's with a booking at their branch within 30 days (else 403).
#[utoipa::path(get, path = "/api/v1/kyc/cases/{id}/documents/{kind}", tag = "kyc", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Verification id"), ("kind" = String, Path, description = "`ktp` or `selfie`")),
    responses((status = 200, description = "The image as uploaded (JPEG or PNG)",
            content((Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"))),
        (status = 404, description = "No such document, or deleted after the retention period", body = Problem)))]
#[tracing::instrument(name = "http.kyc.document", skip_all, fields(case = %id))]
pub async fn document(
    State(state): State<AppState>,
    principal: Principal,
    address: Option<Extension<ClientAddress>>,
    Path((id, kind)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let id = path_id(&id, "Verification")?;
    let Some(kind) = IdentityDocument::parse(&kind) else {
        return Err(AppError::not_found("Document"));
    };
    // Data minimisation: a branch admin opens documents only of a customer the branch serves now.
    if principal.role == Role::BranchAdmin
        && !state.kyc.branch_may_open(id, &principal.branches).await?
    {
        state.kyc.case(id).await?;
        return Err(AppError::new(
            ErrorCode::Forbidden,
            "Identity documents open only for a customer with a booking at your branch within 30 days; ask a KYC reviewer",
        ));
    }
    let actor = actor(&principal, address.as_ref());
    let (content_type, bytes) = state.kyc.document(id, kind, &actor).await?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            // Personal data: never cached by browsers or proxies.
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// A reviewer approves or rejects (with a reason) a pending verification.
#[utoipa::path(post, path = "/api/v1/kyc/cases/{id}/decision", tag = "kyc", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Verification id")), request_body = KycDecisionRequest,
    responses((status = 200, body = KycCase), (status = 404, body = Problem),
        (status = 409, description = "Decided already", body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.kyc.decide", skip_all, fields(case = %id))]
pub async fn decide(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<KycDecisionRequest>,
) -> Result<Json<KycCase>, AppError> {
    let id = path_id(&id, "Verification")?;
    Ok(Json(
        state
            .kyc
            .decide(id, principal.id, body.approve, body.reason.as_deref())
            .await?,
    ))
}

/// Who accessed the verification's documents (HQ audit).
#[utoipa::path(get, path = "/api/v1/kyc/cases/{id}/access-log", tag = "kyc", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Verification id")),
    responses((status = 200, body = AccessLog), (status = 404, body = Problem)))]
#[tracing::instrument(name = "http.kyc.access_log", skip_all, fields(case = %id))]
pub async fn access_log(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AccessLog>, AppError> {
    let id = path_id(&id, "Verification")?;
    Ok(Json(AccessLog {
        items: state.kyc.access_log(id).await?,
    }))
}

/// Asks a person to review the caller's latest verification, rejected by the automated checks
/// (UU PDP: an automated decision may be contested). It goes back to the review queue while its
/// photos are stored.
#[utoipa::path(post, path = "/api/v1/customers/me/kyc/review", tag = "kyc", security(("bearer" = [])),
    request_body = HumanReviewRequest,
    responses((status = 200, description = "Back in the review queue", body = KycCase),
        (status = 409, description = "Nothing to review again (not an automated rejection, or the photos are deleted)", body = Problem)))]
#[tracing::instrument(name = "http.kyc.ask_for_review", skip_all)]
pub async fn ask_for_review(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<HumanReviewRequest>,
) -> Result<Json<KycCase>, AppError> {
    Ok(Json(
        state
            .kyc
            .ask_for_human_review(principal.id, body.note.as_deref())
            .await?,
    ))
}
