//! Availability search (customers: counts per branch and the price; staff: pages of free
//! units) and the SKU month calendar.

use axum::{
    Json,
    extract::{Path, State},
};
use chrono::{Datelike, Months, NaiveDate, Utc};
use sentra_domain::Money;
use sentra_protocol::{
    Availability, BranchAvailability, CalendarDay, CalendarQuery, DayState, ErrorCode, FieldError,
    FreeUnitPage, PriceQuote, Problem, SearchQuery, SkuCalendar, UnitsQuery,
};

use super::extract::ApiQuery;
use crate::{
    auth::Principal,
    booking::availability::{FleetAsset, Scope, SearchError},
    error::AppError,
    state::AppState,
};

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

/// The checks every search makes of its dates.
fn check_dates(state: &AppState, start: NaiveDate, end: NaiveDate, errors: &mut Vec<FieldError>) {
    if end <= start {
        errors.push(FieldError::new("end", "must be after start"));
    }
    let max = i64::from(state.config.max_rental_days);
    if (end - start).num_days() > max {
        errors.push(FieldError::new(
            "end",
            format!("a rental may last at most {max} days"),
        ));
    }
    // A day of slack: "today" differs between WIB, WITA and WIT.
    if start < Utc::now().date_naive() - chrono::Days::new(1) {
        errors.push(FieldError::new("start", "is in the past"));
    }
}

/// Where the customer said they are, if both coordinates are given and valid.
fn near(lat: Option<f64>, lon: Option<f64>, errors: &mut Vec<FieldError>) -> Option<(f64, f64)> {
    match (lat, lon) {
        (None, None) => None,
        (Some(lat), Some(lon))
            if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) =>
        {
            Some((lat, lon))
        }
        _ => {
            errors.push(FieldError::new(
                "lat",
                "give both lat (-90 to 90) and lon (-180 to 180), or neither",
            ));
            None
        }
    }
}

/// How many units of a SKU are free for a whole date range, per branch, and the price. The
/// answer's size depends on the number of branches, never on the fleet: customers book the SKU
/// and the server assigns the unit.
#[utoipa::path(get, path = "/api/v1/availability", tag = "bookings", params(SearchQuery),
    responses((status = 200, body = Availability), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.availability.search", skip_all)]
pub async fn search(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SearchQuery>,
) -> Result<Json<Availability>, AppError> {
    let mut errors = Vec::new();
    check_dates(&state, query.start, query.end, &mut errors);
    let near = near(query.lat, query.lon, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let units = state
        .availability
        .free_assets(&query.sku, query.branch.as_deref(), query.start, query.end)
        .await?;
    let scope = Scope {
        branch: query.branch.as_deref(),
        near,
        within: None,
    };
    let branches = state.availability.branch_counts(&units, scope).await?;
    let head = &units.fleet.head;
    let nights = u32::try_from((query.end - query.start).num_days()).unwrap_or(0);
    let daily_rate = Money::from_rupiah(head.daily_rate_idr);
    let total = daily_rate
        .checked_mul(i64::from(nights))
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("price overflow")))?;
    Ok(Json(Availability {
        sku: query.sku,
        sku_name: head.name.clone(),
        start: query.start,
        end: query.end,
        branch: query.branch,
        free_units: branches.iter().map(|b| b.free_units).sum(),
        branches: branches
            .into_iter()
            .map(|b| BranchAvailability {
                branch_code: b.branch.code,
                branch_name: b.branch.name,
                time_zone: b.branch.time_zone,
                free_units: b.free_units,
                #[expect(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "a distance on Earth, rounded, fits in u32"
                )]
                distance_km: b.distance_km.map(|km| km.round() as u32),
            })
            .collect(),
        price: PriceQuote {
            nights,
            daily_rate_idr: daily_rate,
            total_idr: total,
            deposit_idr: Money::from_rupiah(head.deposit_idr),
        },
    }))
}

/// The free units of a SKU for a date range, for staff, one page at a time in the SKU's unit
/// order. Branch staff see their own branches' units.
#[utoipa::path(get, path = "/api/v1/availability/units", tag = "bookings", params(UnitsQuery),
    responses((status = 200, body = FreeUnitPage), (status = 403, body = Problem), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.availability.units", skip_all)]
pub async fn units(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<UnitsQuery>,
) -> Result<Json<FreeUnitPage>, AppError> {
    let mut errors = Vec::new();
    check_dates(&state, query.start, query.end, &mut errors);
    let limit = query.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        errors.push(FieldError::new("limit", "must be from 1 to 200"));
    }
    let after = match query.cursor.as_deref().map(str::parse::<i32>) {
        None => None,
        Some(Ok(ordinal)) => Some(ordinal),
        Some(Err(_)) => {
            errors.push(FieldError::new("cursor", "pass back next_cursor as given"));
            None
        }
    };
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    if let Some(code) = query.branch.as_deref() {
        let branch = state.availability.branch(code).await?;
        if !principal.can_access_branch(branch.id) {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                "You do not work at this branch",
            ));
        }
    }
    let mut units = state
        .availability
        .free_assets(&query.sku, query.branch.as_deref(), query.start, query.end)
        .await?;
    // Staff of some branches see only theirs.
    let fleet = units.fleet.clone();
    units
        .free
        .retain(|&i| principal.can_access_branch(fleet.assets[i].branch_id));
    let (page, next) = units.page(after, limit);
    Ok(Json(FreeUnitPage {
        sku: query.sku.clone(),
        start: query.start,
        end: query.end,
        branch: query.branch.clone(),
        free_units: u32::try_from(units.free.len()).unwrap_or(u32::MAX),
        items: page.into_iter().map(FleetAsset::to_free_asset).collect(),
        next_cursor: next.map(|ordinal| ordinal.to_string()),
    }))
}

/// A SKU's month: per day, how many units are free.
#[utoipa::path(get, path = "/api/v1/skus/{code}/calendar", tag = "bookings",
    params(("code" = String, Path, description = "SKU code"), CalendarQuery),
    responses((status = 200, body = SkuCalendar), (status = 422, body = Problem)))]
#[tracing::instrument(name = "http.availability.calendar", skip_all, fields(sku = %code))]
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
