//! The customers' own account: self-registration, profile, their bookings.

use axum::{Json, extract::State, http::StatusCode};
use sentra_protocol::{
    BookingList, CustomerProfile, ErrorCode, FieldError, Problem, RegisterCustomerRequest,
    UpdateProfileRequest,
};
use uuid::Uuid;

use super::{bookings::to_dto, extract::ApiJson};
use crate::{
    auth::{Principal, password},
    booking::repo,
    error::AppError,
    state::AppState,
};

/// `+62…` from `+62…`, `62…` or `0…`; `None` when it is not an Indonesian mobile number.
pub fn normalise_phone(raw: &str) -> Option<String> {
    let digits: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let rest = digits
        .strip_prefix("+62")
        .or_else(|| digits.strip_prefix("62"))
        .or_else(|| digits.strip_prefix('0'))?;
    let valid = rest.starts_with('8')
        && (8..=13).contains(&rest.len())
        && rest.chars().all(|c| c.is_ascii_digit());
    valid.then(|| format!("+62{rest}"))
}

fn normalise_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let valid = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !email.contains(char::is_whitespace);
    valid.then_some(email)
}

/// Validated contact fields: (name, phone, email), or the field errors.
fn contact(
    name: Option<&str>,
    phone: Option<&str>,
    email: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> (Option<String>, Option<String>, Option<String>) {
    let name = name.map(str::trim).map(str::to_owned);
    if name
        .as_deref()
        .is_some_and(|n| n.is_empty() || n.chars().count() > 200)
    {
        errors.push(FieldError::new(
            "full_name",
            "must have 1 to 200 characters",
        ));
    }
    let phone = phone.filter(|p| !p.trim().is_empty()).map(|p| {
        normalise_phone(p).unwrap_or_else(|| {
            errors.push(FieldError::new(
                "phone",
                "expected an Indonesian mobile number such as 0812 3456 7890",
            ));
            String::new()
        })
    });
    let email = email.filter(|e| !e.trim().is_empty()).map(|e| {
        normalise_email(e).unwrap_or_else(|| {
            errors.push(FieldError::new("email", "expected an e-mail address"));
            String::new()
        })
    });
    (name, phone, email)
}

fn conflict_or(err: sqlx::Error) -> AppError {
    if crate::db::has_sqlstate(&err, &["23505"]) {
        AppError::new(
            ErrorCode::Conflict,
            "This phone number or e-mail address is already registered; log in instead",
        )
    } else {
        AppError::from(err)
    }
}

#[derive(sqlx::FromRow)]
struct ProfileRow {
    id: Uuid,
    full_name: String,
    phone: Option<String>,
    email: Option<String>,
    membership_tier: String,
    kyc_status: String,
}

async fn profile(state: &AppState, id: Uuid) -> Result<CustomerProfile, AppError> {
    let row: ProfileRow = sqlx::query_as(
        "SELECT id, full_name, phone, email, membership_tier, kyc_status FROM customers WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&state.db)
    .await?
    .ok_or_else(|| AppError::not_found("Customer"))?;
    Ok(CustomerProfile {
        id: row.id,
        full_name: row.full_name,
        phone: row.phone,
        email: row.email,
        membership_tier: row.membership_tier,
        kyc_status: row.kyc_status,
    })
}

/// Registers a customer account (then log in at `/api/v1/auth/customer/login`).
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", request_body = RegisterCustomerRequest,
    responses(
        (status = 201, body = CustomerProfile),
        (status = 409, description = "Phone or e-mail already registered", body = Problem),
        (status = 422, body = Problem)))]
pub async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterCustomerRequest>,
) -> Result<(StatusCode, Json<CustomerProfile>), AppError> {
    let mut errors = Vec::new();
    let (name, phone, email) = contact(
        Some(&body.full_name),
        body.phone.as_deref(),
        body.email.as_deref(),
        &mut errors,
    );
    if phone.is_none() && email.is_none() {
        errors.push(FieldError::new(
            "phone",
            "give a phone number or an e-mail address",
        ));
    }
    if body.password.chars().count() < password::MIN_LENGTH {
        errors.push(FieldError::new(
            "password",
            format!("must have at least {} characters", password::MIN_LENGTH),
        ));
    }
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let hash = tokio::task::spawn_blocking(move || password::hash(&body.password))
        .await
        .map_err(anyhow::Error::from)??;
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO customers (id, full_name, phone, email, password_hash) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(name)
    .bind(phone)
    .bind(email)
    .bind(hash)
    .execute(&state.db)
    .await
    .map_err(conflict_or)?;
    Ok((StatusCode::CREATED, Json(profile(&state, id).await?)))
}

/// The caller's profile.
#[utoipa::path(get, path = "/api/v1/customers/me", tag = "customers", security(("bearer" = [])),
    responses((status = 200, body = CustomerProfile), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn me(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<CustomerProfile>, AppError> {
    Ok(Json(profile(&state, principal.id).await?))
}

/// Changes the caller's name, phone or e-mail.
#[utoipa::path(patch, path = "/api/v1/customers/me", tag = "customers", security(("bearer" = [])),
    request_body = UpdateProfileRequest,
    responses((status = 200, body = CustomerProfile), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_me(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<UpdateProfileRequest>,
) -> Result<Json<CustomerProfile>, AppError> {
    let mut errors = Vec::new();
    let (name, phone, email) = contact(
        body.full_name.as_deref(),
        body.phone.as_deref(),
        body.email.as_deref(),
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    sqlx::query(
        "UPDATE customers SET full_name = coalesce($2, full_name), phone = coalesce($3, phone), \
         email = coalesce($4, email) WHERE id = $1",
    )
    .bind(principal.id)
    .bind(name)
    .bind(phone)
    .bind(email)
    .execute(&state.db)
    .await
    .map_err(conflict_or)?;
    Ok(Json(profile(&state, principal.id).await?))
}

/// The caller's bookings, newest first, each with its QR booking code for the counter.
#[utoipa::path(get, path = "/api/v1/customers/me/bookings", tag = "customers", security(("bearer" = [])),
    responses((status = 200, body = BookingList), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn my_bookings(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<BookingList>, AppError> {
    let rows = repo::list_for_customer(&state.db, principal.id, 200).await?;
    let items = rows
        .into_iter()
        .map(|row| {
            let mut booking = to_dto(row)?;
            booking.qr_payload = Some(super::inventory::booking_code(&state, booking.id));
            Ok(booking)
        })
        .collect::<Result<_, AppError>>()?;
    Ok(Json(BookingList { items }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_normalised_to_plus_62() {
        assert_eq!(
            normalise_phone("0812-3456-7890").as_deref(),
            Some("+6281234567890")
        );
        assert_eq!(
            normalise_phone("+62 812 3456 7890").as_deref(),
            Some("+6281234567890")
        );
        assert_eq!(
            normalise_phone("6281234567").as_deref(),
            Some("+6281234567")
        );
        for bad in ["021-555-1234", "12345", "+1 415 555 0100", "08abc"] {
            assert_eq!(normalise_phone(bad), None, "{bad}");
        }
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            normalise_email(" Budi@Example.COM ").as_deref(),
            Some("budi@example.com")
        );
        for bad in [
            "budi",
            "@example.com",
            "budi@",
            "budi@localhost",
            "a b@example.com",
        ] {
            assert_eq!(normalise_email(bad), None, "{bad}");
        }
    }
}
