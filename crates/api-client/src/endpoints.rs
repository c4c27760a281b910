//! Every operation of the server's HTTP API, by method and path template exactly as the OpenAPI
//! document names them. Client methods build their requests from these constants, and a server
//! test compares [`ALL`] with the served document, so an operation without a client method fails
//! the build's tests.

/// An HTTP method the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    Get,
    Post,
    Patch,
    Delete,
}

impl HttpMethod {
    /// Lower case, as OpenAPI path items name it (`get`, `post`, …).
    pub const fn as_openapi(self) -> &'static str {
        match self {
            HttpMethod::Get => "get",
            HttpMethod::Post => "post",
            HttpMethod::Patch => "patch",
            HttpMethod::Delete => "delete",
        }
    }

    pub(crate) fn to_reqwest(self) -> reqwest::Method {
        match self {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Patch => reqwest::Method::PATCH,
            HttpMethod::Delete => reqwest::Method::DELETE,
        }
    }
}

/// One operation: a method and a path template with `{name}` parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Endpoint {
    pub method: HttpMethod,
    pub path: &'static str,
}

macro_rules! endpoints {
    ($( $(#[$doc:meta])* $name:ident = $method:ident $path:literal; )+) => {
        $( $(#[$doc])* pub const $name: Endpoint = Endpoint { method: HttpMethod::$method, path: $path }; )+

        /// Every operation the client calls.
        pub const ALL: &[Endpoint] = &[$($name),+];
    };
}

endpoints! {
    HEALTH = Get "/healthz";
    READINESS = Get "/readyz";
    VERSION = Get "/api/v1/version";
    METRICS = Get "/metrics";

    STAFF_LOGIN = Post "/api/v1/auth/staff/login";
    CUSTOMER_LOGIN = Post "/api/v1/auth/customer/login";
    REFRESH = Post "/api/v1/auth/refresh";
    LOGOUT = Post "/api/v1/auth/logout";
    CHANGE_PASSWORD = Post "/api/v1/auth/password";
    ME = Get "/api/v1/auth/me";

    REGISTER_CUSTOMER = Post "/api/v1/customers";
    MY_PROFILE = Get "/api/v1/customers/me";
    UPDATE_MY_PROFILE = Patch "/api/v1/customers/me";
    MY_BOOKINGS = Get "/api/v1/customers/me/bookings";
    MY_DATA_EXPORT = Get "/api/v1/customers/me/export";
    ERASE_MY_ACCOUNT = Delete "/api/v1/customers/me";
    ERASE_CUSTOMER = Delete "/api/v1/customers/{id}";

    SEARCH = Get "/api/v1/availability";
    FREE_UNITS = Get "/api/v1/availability/units";
    SKU_CALENDAR = Get "/api/v1/skus/{code}/calendar";

    CREATE_BOOKING = Post "/api/v1/bookings";
    BOOKING = Get "/api/v1/bookings/{id}";
    BOOKINGS = Get "/api/v1/bookings";
    CANCEL_BOOKING = Post "/api/v1/bookings/{id}/cancel";
    CONFIRM_BOOKING = Post "/api/v1/bookings/{id}/confirm";

    JOIN_WAITLIST = Post "/api/v1/waitlist";
    SKU_WAITLIST = Get "/api/v1/skus/{code}/waitlist";
    WAITLIST_ENTRY = Get "/api/v1/waitlist/{id}";
    LEAVE_WAITLIST = Delete "/api/v1/waitlist/{id}";

    BRANCHES = Get "/api/v1/branches";
    CREATE_BRANCH = Post "/api/v1/branches";
    SKUS = Get "/api/v1/skus";
    CREATE_SKU = Post "/api/v1/skus";
    UPDATE_SKU = Patch "/api/v1/skus/{code}";
    ASSETS = Get "/api/v1/assets";
    CREATE_ASSET = Post "/api/v1/assets";
    ASSET = Get "/api/v1/assets/{id}";
    UPDATE_ASSET = Patch "/api/v1/assets/{id}";
    TRANSFER_ASSET = Post "/api/v1/assets/{id}/transfer";
    TRANSFER = Get "/api/v1/transfers/{id}";
    LABEL = Get "/api/v1/assets/{id}/label";
    LABEL_PDF = Get "/api/v1/assets/{id}/label.pdf";
    REISSUE_LABEL = Post "/api/v1/assets/{id}/label/reissue";
    SCAN = Post "/api/v1/scans";

    KYC_CONSENT_TEXT = Get "/api/v1/kyc/consent";
    GIVE_CONSENT = Post "/api/v1/customers/me/consents";
    WITHDRAW_KYC_CONSENT = Delete "/api/v1/customers/me/consents/kyc";
    SUBMIT_KYC = Post "/api/v1/customers/me/kyc";
    MY_KYC = Get "/api/v1/customers/me/kyc";
    ASK_FOR_KYC_REVIEW = Post "/api/v1/customers/me/kyc/review";
    KYC_REVIEWS = Get "/api/v1/kyc/reviews";
    KYC_CASE = Get "/api/v1/kyc/cases/{id}";
    KYC_DOCUMENT = Get "/api/v1/kyc/cases/{id}/documents/{kind}";
    KYC_DECISION = Post "/api/v1/kyc/cases/{id}/decision";
    KYC_ACCESS_LOG = Get "/api/v1/kyc/cases/{id}/access-log";

    REGISTER_DEVICE = Post "/api/v1/sync/devices";
    DEVICES = Get "/api/v1/sync/devices";
    REVOKE_DEVICE = Post "/api/v1/sync/devices/{id}/revoke";
    SYNC_PULL = Get "/api/v1/sync/pull";
    SYNC_PUSH = Post "/api/v1/sync/push";

    PICKUP = Post "/api/v1/bookings/{id}/pickup";
    RETURN = Post "/api/v1/bookings/{id}/return";
    COMPLETE_RENTAL = Post "/api/v1/bookings/{id}/complete";
    RECORD_INSPECTION = Post "/api/v1/inspections";
    INSPECTION = Get "/api/v1/inspections/{id}";
    VERIFY_INSPECTION = Get "/api/v1/inspections/{id}/verify";
    VERIFY_PAGE = Get "/v/{hash}";
    UPLOAD = Post "/api/v1/uploads";
    PRESIGN_UPLOAD = Post "/api/v1/uploads/presign";
    COMPLETE_UPLOAD = Post "/api/v1/uploads/{id}/complete";
    OVERDUE = Get "/api/v1/branches/{code}/overdue";
    RENTAL_DOCUMENT = Post "/api/v1/bookings/{id}/documents/{kind}";
    DOCUMENT_PDF = Get "/api/v1/documents/{id}/pdf";

    CREATE_MAINTENANCE_PLAN = Post "/api/v1/maintenance/plans";
    MAINTENANCE_PLANS = Get "/api/v1/maintenance/plans";
    OPEN_WORK_ORDER = Post "/api/v1/assets/{id}/work-orders";
    CLOSE_WORK_ORDER = Post "/api/v1/work-orders/{id}/close";
    MAINTENANCE_OVERVIEW = Get "/api/v1/branches/{code}/maintenance";

    PAYMENT_QUOTE = Get "/api/v1/bookings/{id}/quote";
    START_PAYMENT = Post "/api/v1/bookings/{id}/payment";
    BOOKING_PAYMENT = Get "/api/v1/bookings/{id}/payment";
    COUNTER_PAYMENT = Post "/api/v1/bookings/{id}/counter-payment";
    COUNTER_RETURN = Post "/api/v1/bookings/{id}/counter-return";
    CHARGES = Get "/api/v1/bookings/{id}/charges";
    ADD_DAMAGE = Post "/api/v1/bookings/{id}/charges";
    REMOVE_DAMAGE = Delete "/api/v1/bookings/{id}/charges/{line}";
    CONFIRM_CHARGES = Post "/api/v1/bookings/{id}/charges/confirm";
    INVOICE = Get "/api/v1/bookings/{id}/invoice";
    MIDTRANS_WEBHOOK = Post "/api/v1/payments/webhooks/midtrans";
    XENDIT_WEBHOOK = Post "/api/v1/payments/webhooks/xendit";
    PAYMENTS_REPORT = Get "/api/v1/payments/report";
    RECONCILE_PAYMENTS = Post "/api/v1/payments/reconcile";

    MY_NOTIFICATIONS = Get "/api/v1/customers/me/notifications";
    UPDATE_MY_NOTIFICATIONS = Patch "/api/v1/customers/me/notifications";
    NOTIFICATION_PROBLEMS = Get "/api/v1/notifications/problems";
    WHATSAPP_VERIFY = Get "/api/v1/notifications/webhooks/whatsapp";
    WHATSAPP_WEBHOOK = Post "/api/v1/notifications/webhooks/whatsapp";
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_operation_is_listed_once() {
        let unique: HashSet<_> = ALL.iter().map(|e| (e.method, e.path)).collect();
        assert_eq!(unique.len(), ALL.len(), "an endpoint is listed twice");
    }
}
