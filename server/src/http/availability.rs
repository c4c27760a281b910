//! Availability search and the SKU month calendar.

use axum::{
    Json,
    extract::{Path, State},
};
use chrono::{Datelike, Months, NaiveDate, Utc};
use sentra_protocol::FieldError;
use sentra_protocol::{Availability, CalendarDay, DayState, FreeAsset, Problem, SkuCalendar};
use serde::Deserialize;

use super::extract::ApiQuery;
use crate::{booking::availability::SearchError, error::AppError, state::AppState};

impl From<SearchError> for AppError {
    fn from(err: SearchError) -> Self {
        match err {
            SearchError::UnknownSku => {
                AppError::validation(vec![FieldError::new("sku", "no SKU with this code")])
            }
            SearchError::UnknownBranch => {
                AppError::validation(vec![FieldError::new("branch", "no branch with this code")])
            }
            SearchError::Database(e) => AppError::from(e),
        }
    }
}

/// Query of the availability search.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// SKU code, e.g. `AVANZA-13G-AT`.
    pub sku: String,
    /// Pickup day (`YYYY-MM-DD`, branch-local).
    pub start: NaiveDate,
    /// Return day, exclusive.
    pub end: NaiveDate,
    /// Branch code; absent searches every branch.
    pub branch: Option<String>,
}

/// Units of a SKU free for a whole date range, with their branch.
#[utoipa::path(get, path = "/api/v1/availability", tag = "bookings", params(SearchQuery),
    responses((status = 200, body = Availability), (status = 422, body = Problem)))]
pub async fn search(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<Availability>, AppError> {
    let mut errors = Vec::new();
    if query.end <= query.start {
        errors.push(FieldError::new("end", "must be after start"));
    }
    let max = i64::from(state.config.max_rental_days);
    if (query.end - query.start).num_days() > max {
        errors.push(FieldError::new(
            "end",
            format!("a rental may last at most {max} days"),
        ));
    }
    // A day of slack: "today" differs between WIB, WITA and WIT.
    if query.start < Utc::now().date_naive() - chrono::Days::new(1) {
        errors.push(FieldError::new("start", "is in the past"));
    }
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let units = state
        .availability
        .free_assets(&query.sku, query.branch.as_deref(), query.start, query.end)
        .await?;
    Ok(Json(Availability {
        sku: query.sku,
        start: query.start,
        end: query.end,
        branch: query.branch,
        free: units
            .assets()
            .map(|a| FreeAsset {
                asset_id: a.id,
                plate_or_serial: a.plate_or_serial.clone(),
                branch_id: a.branch_id,
                branch_code: a.branch_code.clone(),
            })
            .collect(),
    }))
}

/// Query of the SKU calendar.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CalendarQuery {
    /// `YYYY-MM`.
    pub month: String,
    /// Branch code; absent counts every branch.
    pub branch: Option<String>,
}

/// A SKU's month: per day, how many units are free.
#[utoipa::path(get, path = "/api/v1/skus/{code}/calendar", tag = "bookings",
    params(("code" = String, Path, description = "SKU code"), CalendarQuery),
    responses((status = 200, body = SkuCalendar), (status = 422, body = Problem)))]
pub async fn calendar(
    State(state): State<AppState>,
    Path(code): Path<String>,
    ApiQuery(query): ApiQuery<CalendarQuery>,
) -> Result<Json<SkuCalendar>, AppError> {
    let first = NaiveDate::parse_from_str(&format!("{}-01", query.month), "%Y-%m-%d")
        .ok()
        .filter(|d| (2000..=2100).contains(&d.year()))
        .ok_or_else(|| AppError::validation(vec![FieldError::new("month", "expected YYYY-MM")]))?;
    let counts = state
        .availability
        .day_counts(
            &code,
            query.branch.as_deref(),
            first,
            first + Months::new(1),
        )
        .await?;
    let days = counts
        .into_iter()
        .map(|(date, free, total)| CalendarDay {
            date,
            free_units: u32::try_from(free).unwrap_or(u32::MAX),
            total_units: u32::try_from(total).unwrap_or(u32::MAX),
            state: match free {
                0 => DayState::SoldOut,
                n if n == total => DayState::Free,
                _ => DayState::PartlyFree,
            },
        })
        .collect();
    Ok(Json(SkuCalendar {
        sku: code,
        month: query.month,
        branch: query.branch,
        days,
    }))
}
