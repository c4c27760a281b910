//! The OpenAPI document (`/openapi.json`, browsable at `/docs` with vendored Swagger UI assets).

use sentra_protocol::{
    ErrorCode, FieldError, Health, Problem, Readiness, ReadinessCheck, VersionInfo,
};
use utoipa::OpenApi;

use sentra_protocol::{
    Booking, BookingList, ConfirmBookingRequest, CreateBookingRequest, JoinWaitlistRequest,
    WaitlistEntry,
};

use super::{
    auth, availability, bookings, customers, handovers, health, inventory, kyc, maintenance,
    notifications, payments, sync, waitlist,
};

/// The API description, built from the handlers' annotations.
#[derive(Debug, OpenApi)]
#[openapi(
    modifiers(&BearerAuth),
    info(
        title = "SentraRental API",
        description = "Rental operations for Indonesian multi-branch rental businesses. \
                       Errors are RFC 9457 problem+json documents with a stable `code`."
    ),
    paths(
        health::healthz, health::readyz, health::version, health::metrics,
        bookings::create, bookings::get_one, bookings::list, bookings::cancel, bookings::confirm,
        waitlist::join, waitlist::get_one, waitlist::leave, waitlist::queue,
        availability::search, availability::units, availability::calendar,
        customers::register, customers::me, customers::update_me, customers::my_bookings, customers::export, customers::erase_me, customers::erase,
        inventory::list_branches, inventory::create_branch, inventory::list_skus, inventory::create_sku,
        inventory::update_sku, inventory::list_assets, inventory::create_asset, inventory::get_asset,
        inventory::update_asset, inventory::transfer_asset, inventory::get_transfer, inventory::get_label,
        inventory::get_label_pdf, inventory::reissue_label, inventory::scan,
        kyc::consent_text, kyc::give_consent, kyc::withdraw_consent, kyc::submit, kyc::my_status, kyc::ask_for_review, kyc::reviews, kyc::case,
        kyc::document, kyc::decide, kyc::access_log,
        auth::staff_login, auth::customer_login, auth::refresh, auth::logout, auth::change_password, auth::whoami,
        sync::register_device, sync::devices, sync::revoke_device, sync::pull, sync::push,
        handovers::pickup, handovers::take_back, handovers::complete, handovers::record,
        handovers::inspection, handovers::verify, handovers::verify_page, handovers::upload,
        handovers::presign, handovers::complete_upload, handovers::overdue,
        handovers::document, handovers::document_pdf, maintenance::create_plan, maintenance::plans,
        maintenance::open_work_order, maintenance::close_work_order, maintenance::overview,
        payments::quote, payments::start, payments::view, payments::counter, payments::counter_return, payments::charges,
        payments::add_damage, payments::remove_damage, payments::confirm_charges, payments::invoice,
        payments::midtrans_webhook, payments::xendit_webhook, payments::report, payments::reconcile,
        notifications::preferences, notifications::set_preferences, notifications::problems,
        notifications::whatsapp_verify, notifications::whatsapp_webhook
    ),
    components(schemas(sentra_protocol::NotificationPreferences,
        sentra_protocol::UpdateNotificationPreferences, sentra_protocol::NotificationProblem,
        sentra_protocol::NotificationProblems, sentra_protocol::PaymentQuote, sentra_protocol::StartPaymentRequest,
        sentra_protocol::BookingPayment, sentra_protocol::PaymentHold, sentra_protocol::HoldMovement,
        sentra_protocol::CounterPaymentRequest, sentra_protocol::Charges, sentra_protocol::ChargeLine,
        sentra_protocol::AddDamageRequest, sentra_protocol::ConfirmChargesRequest, sentra_protocol::Settlement,
        sentra_protocol::PaymentsReport, sentra_protocol::OpenHold, sentra_protocol::DayTotals,
        sentra_protocol::Reconciliation, sentra_protocol::ReconciliationDifference,
        sentra_domain::payment::HoldStatus, sentra_domain::payment::PaymentMethod,
        sentra_domain::payment::PaymentProvider, sentra_domain::charges::ChargeKind,
        sentra_protocol::Handover, sentra_protocol::Inspection,
        sentra_protocol::InspectionInput, sentra_protocol::PhotoInput, sentra_protocol::PickupRequest,
        sentra_protocol::ReturnRequest, sentra_protocol::RecordFile, sentra_protocol::Verification,
        sentra_protocol::VerificationFinding, sentra_protocol::Upload, sentra_protocol::UploadPurpose,
        sentra_protocol::PresignRequest, sentra_protocol::PresignedUpload, sentra_protocol::OverdueList,
        sentra_protocol::OverdueRental, sentra_protocol::RentalDocumentInfo, sentra_protocol::CreatePlanRequest, sentra_protocol::MaintenancePlan,
        sentra_protocol::OpenWorkOrderRequest, sentra_protocol::ReassignedBooking, sentra_protocol::CloseWorkOrderRequest,
        sentra_protocol::WorkOrder, sentra_protocol::ServiceDue, sentra_protocol::MaintenanceOverview, sentra_domain::InspectionKind, sentra_domain::DamageSeverity,
        sentra_domain::inspection::ChecklistAnswer, sentra_domain::inspection::DamageMark,
        sentra_protocol::RegisterDeviceRequest, sentra_protocol::Device,
        sentra_protocol::DeviceRegistration, sentra_protocol::DeviceList, sentra_protocol::SyncPage,
        sentra_protocol::SyncChange, sentra_protocol::SyncEntity, sentra_protocol::SyncBooking,
        sentra_protocol::CounterCustomer, sentra_protocol::PushRequest, sentra_protocol::PushOperation,
        sentra_protocol::PushAction, sentra_protocol::PushOutcome, sentra_protocol::PushResult,
        sentra_protocol::PushResponse, sentra_protocol::AccessLog, sentra_protocol::AccessLogEntry, sentra_protocol::Consent,
        sentra_protocol::ConsentText, sentra_protocol::ConsentWithdrawal, sentra_protocol::GiveConsentRequest, sentra_protocol::KycCase,
        sentra_protocol::KycCaseList, sentra_protocol::KycDecisionRequest, sentra_protocol::HumanReviewRequest, sentra_protocol::SubmitKycRequest,
        sentra_protocol::Asset, sentra_protocol::AssetList, sentra_protocol::Branch,
        sentra_protocol::BranchList, sentra_protocol::ChecklistLine, sentra_protocol::CreateAssetRequest,
        sentra_protocol::CreateBranchRequest, sentra_protocol::CreateSkuRequest, sentra_protocol::LabelPayload,
        sentra_protocol::LateFee, sentra_protocol::MovedBooking, sentra_protocol::NoteBranch, sentra_protocol::ScanRequest,
        sentra_protocol::ScanResult, sentra_protocol::Sku, sentra_protocol::SkuList, sentra_protocol::TransferNote,
        sentra_protocol::TransferRequest, sentra_protocol::UpdateAssetRequest, sentra_protocol::UpdateSkuRequest,
        sentra_protocol::RegisterCustomerRequest, sentra_protocol::UpdateProfileRequest,
        sentra_protocol::CustomerExport, sentra_protocol::ExportedConsent, sentra_protocol::ExportedAccess,
        sentra_protocol::ExportedDocument, sentra_protocol::EraseAccountRequest, sentra_protocol::AccountErased,
        sentra_protocol::CustomerProfile, sentra_protocol::StaffLoginRequest, sentra_protocol::CustomerLoginRequest,
        sentra_protocol::RefreshRequest, sentra_protocol::ChangePasswordRequest, sentra_protocol::Me,
        sentra_protocol::TokenResponse, sentra_protocol::Availability, sentra_protocol::FreeAsset, sentra_protocol::FreeUnitPage,
        sentra_protocol::BranchAvailability, sentra_protocol::PriceQuote, sentra_protocol::Location, sentra_protocol::SkuCalendar,
        sentra_protocol::CalendarDay, sentra_protocol::DayState, JoinWaitlistRequest, WaitlistEntry, sentra_protocol::WaitlistQueue, Booking, BookingList, ConfirmBookingRequest, CreateBookingRequest, Health, Readiness, ReadinessCheck, VersionInfo, Problem, FieldError, ErrorCode)),
    tags(
        (name = "operations", description = "Health, readiness, version and metrics"),
        (name = "bookings", description = "Booking engine: no double booking, ever"),
        (name = "waitlist", description = "Queues for sold-out dates, with timed offers"),
        (name = "auth", description = "Logins, access and refresh tokens"),
        (name = "customers", description = "Customers' own accounts"),
        (name = "inventory", description = "Branches, SKUs, assets, transfers and QR labels"),
        (name = "kyc", description = "KTP verification under UU PDP: consent, encrypted documents, review"),
        (name = "sync", description = "Branch desktops: registered devices and the branch change feed"),
        (name = "handovers", description = "Pickups, returns, tamper-proof inspection records, photos, documents and overdue rentals"),
        (name = "maintenance", description = "Service plans, work orders that block the calendar, services due"),
        (name = "notifications", description = "WhatsApp and e-mail messages: HQ's list of failures, WhatsApp's delivery webhook")
    )
)]
pub struct ApiDoc;

/// The document served at `/openapi.json`: the handlers' annotations, completed with the answers
/// every operation shares (see `openapi_answers`).
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    super::openapi_answers::complete(&mut doc);
    doc
}

/// Declares the `bearer` security scheme (access tokens from `/api/v1/auth/*/login`).
#[derive(Debug)]
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
