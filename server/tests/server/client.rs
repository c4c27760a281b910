//! The typed API client (`sentra-api-client`) against the real server: it has a method for
//! every documented operation, and its types decode what the server really sends.

use std::collections::BTreeSet;

use sentra_api_client::{ApiClient, endpoints};
use sentra_domain::{
    ActorKind, AssetStatus, BookingKind, BookingStatus, CustomerKycStatus, DocumentAction,
    IdentityDocument, KycCaseStatus, KycProvider, KycRejectReason, MembershipTier, Money, Role,
    SkuCategory, SubjectKind, WaitlistStatus, label::LabelKind,
};
use sentra_protocol::{
    AssetQuery, BookingListQuery, CalendarQuery, ConfirmBookingRequest, CreateAssetRequest,
    CreateBookingRequest, CustomerLoginRequest, JoinWaitlistRequest, RefreshRequest,
    RegisterCustomerRequest, ScanRequest, SearchQuery, TransferRequest, UnitsQuery,
    UpdateAssetRequest, UpdateProfileRequest, UpdateSkuRequest,
};

use crate::{
    fixtures::{day, seed},
    support::{TestApp, documented_operations},
};

#[test]
fn every_documented_operation_has_a_client_method_and_no_other() {
    let documented = documented_operations();
    let in_client: BTreeSet<(String, String)> = endpoints::ALL
        .iter()
        .map(|e| (e.method.as_openapi().to_owned(), e.path.to_owned()))
        .collect();
    let missing: Vec<_> = documented.difference(&in_client).collect();
    assert!(
        missing.is_empty(),
        "documented operations without a client method (add them to sentra-api-client): {missing:?}"
    );
    let stale: Vec<_> = in_client.difference(&documented).collect();
    assert!(
        stale.is_empty(),
        "client endpoints the server does not document: {stale:?}"
    );
    assert!(documented.len() >= 50, "{} operations", documented.len());
}

/// The names each state is stored and sent as, pinned: the OpenAPI document must list exactly
/// these, and the typed values must serialize to them (a renamed variant changes neither).
#[test]
fn every_state_enum_is_documented_and_sent_under_its_stored_names() {
    let doc = sentra_server::http::openapi::document();
    let pinned = pinned_states();
    for (schema, expected, sent) in pinned {
        assert_eq!(sent, expected, "{schema} is sent under other names");
        let documented: Vec<&str> = doc["components"]["schemas"][schema]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema} is not a documented enum"))
            .iter()
            .filter_map(serde_json::Value::as_str)
            .collect();
        assert_eq!(
            documented, expected,
            "{schema} is documented under other names"
        );
    }
    assert_eq!(names(LabelKind::ALL), ["asset", "booking"]);
}

const ROLES: &[&str] = &[
    "customer",
    "inspector",
    "branch_admin",
    "hq_admin",
    "kyc_reviewer",
];

/// Each state enum: its schema name, its pinned names, and what its values serialize to.
fn pinned_states() -> [(&'static str, &'static [&'static str], Vec<String>); 15] {
    [
        ("Role", ROLES, names(Role::ALL)),
        (
            "SubjectKind",
            &["staff", "customer"],
            names(SubjectKind::ALL),
        ),
        (
            "BookingKind",
            &["RENTAL", "MAINTENANCE"],
            names(BookingKind::ALL),
        ),
        (
            "BookingStatus",
            &[
                "PENDING_PAYMENT",
                "CONFIRMED",
                "ACTIVE",
                "RETURNED",
                "COMPLETED",
                "CANCELLED",
                "EXPIRED",
                "NO_SHOW",
            ],
            names(&BookingStatus::ALL),
        ),
        (
            "AssetStatus",
            &["active", "maintenance", "retired"],
            names(&[
                AssetStatus::Active,
                AssetStatus::Maintenance,
                AssetStatus::Retired,
            ]),
        ),
        (
            "SkuCategory",
            &["car", "motorbike", "equipment"],
            names(SkuCategory::ALL),
        ),
        (
            "MembershipTier",
            &["regular", "silver", "gold", "platinum"],
            names(&MembershipTier::ALL),
        ),
        (
            "CustomerKycStatus",
            &["unverified", "pending", "verified", "rejected"],
            names(CustomerKycStatus::ALL),
        ),
        (
            "KycCaseStatus",
            &["pending_review", "verified", "rejected"],
            names(KycCaseStatus::ALL),
        ),
        (
            "KycProvider",
            &["manual", "verihubs"],
            names(KycProvider::ALL),
        ),
        (
            "KycRejectReason",
            &[
                "ktp_inconsistent_with_nik",
                "identity_not_confirmed",
                "liveness_failed",
                "face_mismatch",
                "rejected_by_staff",
                "consent_withdrawn",
                "review_window_lapsed",
            ],
            names(KycRejectReason::ALL),
        ),
        (
            "IdentityDocument",
            &["ktp", "selfie"],
            names(IdentityDocument::ALL),
        ),
        (
            "DocumentAction",
            &["upload", "view", "purge"],
            names(DocumentAction::ALL),
        ),
        (
            "ActorKind",
            &["customer", "staff", "system"],
            names(ActorKind::ALL),
        ),
        (
            "WaitlistStatus",
            &["WAITING", "OFFERED", "FULFILLED", "LEFT", "EXPIRED"],
            names(WaitlistStatus::ALL),
        ),
    ]
}

/// How each value serializes (the JSON string, unquoted).
fn names<T: serde::Serialize>(values: &[T]) -> Vec<String> {
    values
        .iter()
        .map(|v| {
            serde_json::to_value(v)
                .ok()
                .and_then(|j| j.as_str().map(str::to_owned))
                .expect("a state serializes as a string")
        })
        .collect()
}

#[tokio::test]
async fn a_customer_books_and_staff_confirm_through_the_typed_client_alone() -> anyhow::Result<()> {
    let mut app = TestApp::spawn().await?;
    seed(&app.db).await?;
    let public = app.api();
    let booked = customer_books_a_model(&public).await?;
    app.as_hq().await?;
    let staff = app.api();
    counter_confirms(&staff, &booked).await?;
    fleet_work(&staff, &booked.sku).await?;
    waitlist_and_session(&public, &staff, &booked, &app.db).await?;
    let metrics = public.metrics().await?;
    assert!(metrics.contains("sentra_http_requests_total"));
    Ok(())
}

/// What the customer's side of the journey leaves for the staff's side.
struct Booked {
    sku: String,
    customer: sentra_protocol::CustomerProfile,
    tokens: sentra_protocol::TokenResponse,
    booking: sentra_protocol::Booking,
    qr: String,
}

/// Operations and the public catalogue; returns the demo Avanza.
async fn public_catalogue(public: &ApiClient) -> anyhow::Result<sentra_protocol::Sku> {
    assert_eq!(public.health().await?.status, "ok");
    assert_eq!(
        public.version().await?.api_version,
        sentra_protocol::API_VERSION
    );
    assert!(public.readiness().await?.ready);
    let branches = public.branches().await?.items;
    assert!(branches.iter().any(|b| b.code == "JKT01"));
    let skus = public.skus().await?.items;
    let avanza = skus
        .into_iter()
        .find(|s| s.code == "AVANZA-13G-AT")
        .expect("the demo Avanza");
    assert_eq!(avanza.category, SkuCategory::Car);
    assert!(!public.kyc_consent_text().await?.version.is_empty());
    Ok(avanza)
}

/// A customer searches, registers and books the model.
async fn customer_books_a_model(public: &ApiClient) -> anyhow::Result<Booked> {
    let avanza = public_catalogue(public).await?;
    let avanza = &avanza;
    // The customer searches, registers, logs in and books the model.
    let (start, end) = (day(3), day(6));
    let found = public
        .search(&SearchQuery {
            sku: avanza.code.clone(),
            start,
            end,
            ..SearchQuery::default()
        })
        .await?;
    assert_eq!(found.price.total_idr, Money::from_rupiah(3 * 450_000));
    assert!(
        found
            .branches
            .iter()
            .any(|b| b.branch_code == "JKT01" && b.free_units > 0)
    );
    let month = start.format("%Y-%m").to_string();
    let calendar = public
        .sku_calendar(
            &avanza.code,
            &CalendarQuery {
                month,
                branch: None,
            },
        )
        .await?;
    assert!(!calendar.days.is_empty());

    let profile = public
        .register_customer(&RegisterCustomerRequest {
            full_name: "Dewi Lestari".to_owned(),
            phone: None,
            email: Some("dewi@example.com".to_owned()),
            password: "rahasia-sekali-2026".to_owned(),
        })
        .await?;
    assert_eq!(profile.kyc_status, CustomerKycStatus::Unverified);
    assert_eq!(profile.membership_tier, MembershipTier::Regular);
    let tokens = public
        .customer_login(&CustomerLoginRequest {
            login: "dewi@example.com".to_owned(),
            password: "rahasia-sekali-2026".to_owned(),
        })
        .await?;
    assert_eq!(tokens.me.kind, SubjectKind::Customer);
    let customer = public.with_token(&tokens.access_token);
    let renamed = customer
        .update_my_profile(&UpdateProfileRequest {
            full_name: Some("Dewi Lestari Putri".to_owned()),
            ..UpdateProfileRequest::default()
        })
        .await?;
    assert_eq!(customer.my_profile().await?.full_name, renamed.full_name);
    let booking = customer
        .create_booking(
            "client-journey-1",
            &CreateBookingRequest {
                sku: Some(avanza.code.clone()),
                branch: Some("JKT01".to_owned()),
                near: None,
                asset_id: None,
                customer_id: profile.id,
                start,
                end,
            },
        )
        .await?;
    assert_eq!(booking.status, BookingStatus::PendingPayment);
    assert_eq!(booking.kind, BookingKind::Rental);
    assert_eq!(booking.total_idr, found.price.total_idr);
    let mine = customer.my_bookings().await?.items;
    let qr = mine
        .iter()
        .find(|b| b.id == booking.id)
        .and_then(|b| b.qr_payload.clone())
        .expect("the booking with its QR code");

    // A customer may not see another branch's bookings: a typed problem, not a panic.
    let refused = customer
        .bookings(&BookingListQuery {
            branch: "JKT01".to_owned(),
            ..BookingListQuery::default()
        })
        .await
        .expect_err("customers do not list branch bookings");
    assert_eq!(refused.status(), Some(403), "{refused}");
    Ok(Booked {
        sku: avanza.code.clone(),
        customer: profile,
        tokens,
        booking,
        qr,
    })
}

/// Staff at the counter scan the customer's QR and confirm the deposit.
async fn counter_confirms(staff: &ApiClient, booked: &Booked) -> anyhow::Result<()> {
    let Booked { booking, qr, .. } = booked;
    let me = staff.me().await?;
    assert_eq!((me.kind, me.role), (SubjectKind::Staff, Role::HqAdmin));
    let scanned = staff
        .scan(&ScanRequest {
            payload: qr.clone(),
        })
        .await?;
    assert_eq!(scanned.kind, LabelKind::Booking);
    let pending = staff
        .bookings(&BookingListQuery {
            branch: "JKT01".to_owned(),
            status: Some(BookingStatus::PendingPayment.as_str().to_owned()),
            limit: None,
        })
        .await?
        .items;
    assert!(pending.iter().any(|b| b.id == booking.id));
    let hold_token = staff.booking(booking.id).await?.hold_token.expect("held");
    let confirmed = staff
        .confirm_booking(booking.id, &ConfirmBookingRequest { hold_token })
        .await?;
    assert_eq!(confirmed.status, BookingStatus::Confirmed);

    // The unit it took is no longer among the free ones.
    let free = staff
        .free_units(&UnitsQuery {
            sku: booked.sku.clone(),
            start: booking.start,
            end: booking.end,
            branch: Some("JKT01".to_owned()),
            limit: Some(200),
            cursor: None,
        })
        .await?;
    assert!(free.items.iter().all(|u| u.asset_id != booking.asset_id));
    Ok(())
}

/// The fleet: an asset, its label, a scan of it, a workshop visit, a transfer, a new price.
async fn fleet_work(staff: &ApiClient, sku: &str) -> anyhow::Result<()> {
    let fleet = staff
        .assets(&AssetQuery {
            branch: Some("JKT01".to_owned()),
        })
        .await?
        .items;
    assert!(fleet.iter().all(|a| a.home_branch_code == "JKT01"));
    let asset = staff
        .create_asset(&CreateAssetRequest {
            sku_code: sku.to_owned(),
            branch_code: "JKT01".to_owned(),
            plate_or_serial: "B 4321 CLI".to_owned(),
            odometer_km: Some(1_000),
        })
        .await?;
    assert_eq!(asset.status, AssetStatus::Active);
    assert_eq!(staff.asset(asset.id).await?.plate_or_serial, "B 4321 CLI");
    let label = staff.label(asset.id).await?;
    let scanned = staff
        .scan(&ScanRequest {
            payload: label.payload,
        })
        .await?;
    assert_eq!(scanned.kind, LabelKind::Asset);
    assert!(staff.label_pdf(asset.id).await?.starts_with(b"%PDF"));
    let reissued = staff.reissue_label(asset.id).await?;
    assert_eq!(reissued.label_version, label.label_version + 1);
    let serviced = staff
        .update_asset(
            asset.id,
            &UpdateAssetRequest {
                status: Some(AssetStatus::Maintenance.as_str().to_owned()),
                odometer_km: Some(1_250),
            },
        )
        .await?;
    assert_eq!(
        (serviced.status, serviced.odometer_km),
        (AssetStatus::Maintenance, Some(1_250))
    );
    let note = staff
        .transfer_asset(
            asset.id,
            &TransferRequest {
                to_branch_code: "DPS01".to_owned(),
                reason: "Lebaran demand in Bali".to_owned(),
            },
        )
        .await?;
    assert_eq!(staff.transfer(note.id).await?.number, note.number);
    let repriced = staff
        .update_sku(
            sku,
            &UpdateSkuRequest {
                daily_rate_idr: Some(475_000),
                ..UpdateSkuRequest::default()
            },
        )
        .await?;
    assert_eq!(repriced.daily_rate_idr, 475_000);
    Ok(())
}

/// The waitlist (join, join again, leave), a cancellation, then the session: refresh once, log
/// out, and the old refresh token is dead.
async fn waitlist_and_session(
    public: &ApiClient,
    staff: &ApiClient,
    booked: &Booked,
    db: &sqlx::PgPool,
) -> anyhow::Result<()> {
    let customer = public.with_token(&booked.tokens.access_token);
    let free_dates = JoinWaitlistRequest {
        customer_id: booked.customer.id,
        sku: booked.sku.clone(),
        branch: Some("DPS01".to_owned()),
        start: day(40),
        end: day(42),
    };
    let err = customer
        .join_waitlist(&free_dates)
        .await
        .expect_err("free dates are booked, not waited for");
    assert_eq!((err.status(), err.code()), (Some(409), "units_available"));
    crate::fixtures::sell_out(staff, db, &booked.sku, Some("DPS01"), day(40), day(42)).await?;
    let request = JoinWaitlistRequest {
        customer_id: booked.customer.id,
        sku: booked.sku.clone(),
        branch: Some("DPS01".to_owned()),
        start: day(40),
        end: day(42),
    };
    let joined = customer.join_waitlist(&request).await?;
    assert!(joined.created);
    assert_eq!(joined.entry.status, WaitlistStatus::Waiting);
    let again = customer.join_waitlist(&request).await?;
    assert!(!again.created);
    assert_eq!(again.entry.id, joined.entry.id);
    assert_eq!(
        customer.waitlist_entry(joined.entry.id).await?.position,
        Some(1)
    );
    assert_eq!(
        customer.leave_waitlist(joined.entry.id).await?.status,
        WaitlistStatus::Left
    );

    let cancelled = staff.cancel_booking(booked.booking.id).await?;
    assert_eq!(cancelled.status, BookingStatus::Cancelled);
    let renewed = public
        .refresh(&RefreshRequest {
            refresh_token: booked.tokens.refresh_token.clone(),
        })
        .await?;
    public
        .logout(&RefreshRequest {
            refresh_token: renewed.refresh_token.clone(),
        })
        .await?;
    let dead = public
        .refresh(&RefreshRequest {
            refresh_token: renewed.refresh_token,
        })
        .await
        .expect_err("logged out");
    assert_eq!(dead.status(), Some(401));
    Ok(())
}

#[tokio::test]
async fn a_server_refusal_reaches_the_caller_as_a_typed_problem() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let client: ApiClient = app.api();
    let err = client
        .booking(uuid::Uuid::now_v7())
        .await
        .expect_err("no token");
    assert_eq!((err.status(), err.code()), (Some(401), "unauthorized"));
    let problem = err.problem().expect("a problem document");
    assert_eq!(problem.status, 401);
    Ok(())
}
