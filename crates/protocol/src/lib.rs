//! Wire types of the SentraRental HTTP API: what the server sends and its clients (the desktop
//! app, the customers' web front end, tests) read. Owns the stable error-code table and the RFC 9457
//! problem document, the API version, and the request/response bodies (DTOs).
//!
//! Nothing here performs I/O. With the `openapi` feature the types also describe themselves for the
//! server's OpenAPI document.

/// `Debug` for a body carrying secrets: every field is named, secret values are not printed
/// (a `debug!(?body)` must never put a password or token in a log).
macro_rules! debug_without_secrets {
    ($ty:ident { $($shown:ident),* ; $($secret:ident),+ }) => {
        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($shown), &self.$shown))*
                    $(.field(stringify!($secret), &"<redacted>"))+
                    .finish()
            }
        }
    };
}

pub mod auth;
pub mod availability;
pub mod booking;
pub mod customer;
pub mod error;
pub mod export;
pub mod handover;
pub mod health;
pub mod inventory;
pub mod kyc;
pub mod notification;
pub mod payment;
pub mod sync;
pub mod waitlist;

pub use auth::{
    ChangePasswordRequest, CustomerLoginRequest, Me, RefreshRequest, StaffLoginRequest,
    TokenResponse,
};
pub use availability::{
    Availability, BranchAvailability, CalendarDay, CalendarQuery, DayState, FreeAsset,
    FreeUnitPage, Location, PriceQuote, SearchQuery, SkuCalendar, UnitsQuery,
};
pub use booking::{
    Booking, BookingList, BookingListQuery, ConfirmBookingRequest, CreateBookingRequest,
};
pub use customer::{CustomerProfile, RegisterCustomerRequest, UpdateProfileRequest};
pub use error::{ErrorCode, FieldError, PROBLEM_CONTENT_TYPE, Problem};
pub use export::{
    AccountErased, CustomerExport, EraseAccountRequest, ExportQuery, ExportedAccess,
    ExportedConsent, ExportedDocument,
};
pub use handover::{
    CloseWorkOrderRequest, CreatePlanRequest, Handover, Inspection, InspectionInput,
    MaintenanceOverview, MaintenancePlan, OpenWorkOrderRequest, OverdueList, OverdueRental,
    PhotoInput, PickupRequest, PresignRequest, PresignedUpload, ReassignedBooking, RecordFile,
    RentalDocumentInfo, ReturnRequest, ServiceDue, Upload, UploadPurpose, Verification,
    VerificationFinding, WorkOrder,
};
pub use health::{Health, Readiness, ReadinessCheck, VersionInfo};
pub use inventory::{
    Asset, AssetList, AssetQuery, Branch, BranchList, ChecklistLine, CreateAssetRequest,
    CreateBranchRequest, CreateSkuRequest, LabelPayload, LateFee, MovedBooking, NoteBranch,
    ScanRequest, ScanResult, Sku, SkuList, TransferNote, TransferRequest, UpdateAssetRequest,
    UpdateSkuRequest,
};
pub use kyc::{
    AccessLog, AccessLogEntry, Consent, ConsentText, ConsentWithdrawal, GiveConsentRequest,
    HumanReviewRequest, KycCase, KycCaseList, KycDecisionRequest, SubmitKycRequest,
};
pub use notification::{
    NotificationPreferences, NotificationProblem, NotificationProblems,
    UpdateNotificationPreferences,
};
pub use payment::{
    AddDamageRequest, BookingPayment, ChargeLine, Charges, ConfirmChargesRequest,
    CounterPaymentRequest, DayTotals, HoldMovement, OpenHold, PaymentHold, PaymentQuote,
    PaymentsReport, Reconciliation, ReconciliationDifference, Settlement, StartPaymentRequest,
};
pub use sync::{
    CounterCustomer, Device, DeviceList, DeviceQuery, DeviceRegistration, PushAction,
    PushOperation, PushOutcome, PushRequest, PushResponse, PushResult, RegisterDeviceRequest,
    SyncBooking, SyncChange, SyncEntity, SyncPage, SyncPullQuery,
};
pub use waitlist::{JoinWaitlistRequest, WaitlistEntry, WaitlistQueue, WaitlistQueueQuery};

/// Version of the HTTP API contract. Raised only for breaking changes; the URL prefix follows it.
pub const API_VERSION: u32 = 1;

/// Path prefix of every versioned endpoint.
pub const API_PREFIX: &str = "/api/v1";
