//! The OpenAPI document (`/openapi.json`, browsable at `/docs` with vendored Swagger UI assets).

use sentra_protocol::{
    ErrorCode, FieldError, Health, Problem, Readiness, ReadinessCheck, VersionInfo,
};
use utoipa::OpenApi;

use sentra_protocol::{Booking, BookingList, ConfirmBookingRequest, CreateBookingRequest};

use super::{bookings, health};

/// The API description, built from the handlers' annotations.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "SentraRental API",
        description = "Rental operations for Indonesian multi-branch rental businesses. \
                       Errors are RFC 9457 problem+json documents with a stable `code`."
    ),
    paths(
        health::healthz, health::readyz, health::version, health::metrics,
        bookings::create, bookings::get_one, bookings::list, bookings::cancel, bookings::confirm
    ),
    components(schemas(Booking, BookingList, ConfirmBookingRequest, CreateBookingRequest, Health, Readiness, ReadinessCheck, VersionInfo, Problem, FieldError, ErrorCode)),
    tags(
        (name = "operations", description = "Health, readiness, version and metrics"),
        (name = "bookings", description = "Booking engine: no double booking, ever")
    )
)]
pub struct ApiDoc;
