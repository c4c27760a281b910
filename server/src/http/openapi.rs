//! The OpenAPI document (`/openapi.json`, browsable at `/docs` with vendored Swagger UI assets).

use sentra_protocol::{
    ErrorCode, FieldError, Health, Problem, Readiness, ReadinessCheck, VersionInfo,
};
use utoipa::OpenApi;

use sentra_protocol::{
    Booking, BookingList, ConfirmBookingRequest, CreateBookingRequest, JoinWaitlistRequest,
    WaitlistEntry,
};

use super::{availability, bookings, health, waitlist};

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
        bookings::create, bookings::get_one, bookings::list, bookings::cancel, bookings::confirm,
        waitlist::join, waitlist::get_one, waitlist::leave,
        availability::search, availability::calendar
    ),
    components(schemas(sentra_protocol::Availability, sentra_protocol::FreeAsset, sentra_protocol::SkuCalendar,
        sentra_protocol::CalendarDay, sentra_protocol::DayState, JoinWaitlistRequest, WaitlistEntry, Booking, BookingList, ConfirmBookingRequest, CreateBookingRequest, Health, Readiness, ReadinessCheck, VersionInfo, Problem, FieldError, ErrorCode)),
    tags(
        (name = "operations", description = "Health, readiness, version and metrics"),
        (name = "bookings", description = "Booking engine: no double booking, ever"),
        (name = "waitlist", description = "Queues for sold-out dates, with timed offers")
    )
)]
pub struct ApiDoc;
