//! Every client method against a stub server that records what it was asked: together the
//! methods call exactly the operations in [`endpoints::ALL`], each once, with the right method
//! and path. (The server's own test checks `ALL` against its OpenAPI document.)

use std::{
    collections::BTreeSet,
    io::{BufRead, BufReader, Read, Write},
    net::TcpListener,
    sync::{Arc, Mutex},
};

use sentra_domain::{IdentityDocument, Uuid};
use sentra_protocol::{
    AssetQuery, BookingListQuery, CalendarQuery, ChangePasswordRequest, ConfirmBookingRequest,
    CreateAssetRequest, CreateBookingRequest, CreateBranchRequest, CreateSkuRequest,
    CustomerLoginRequest, DeviceQuery, GiveConsentRequest, JoinWaitlistRequest, KycDecisionRequest,
    PushRequest, RefreshRequest, RegisterCustomerRequest, RegisterDeviceRequest, ScanRequest,
    SearchQuery, StaffLoginRequest, SubmitKycRequest, SyncPullQuery, TransferRequest, UnitsQuery,
    UpdateAssetRequest, UpdateProfileRequest, UpdateSkuRequest,
};

use crate::{ApiClient, endpoints};

const CODE: &str = "SKU-CODE";
/// A charge line's id (a second id in one path).
const LINE: &str = "00000000-0000-0000-0000-0000000000aa";

/// `(METHOD, path)` of each request the stub received, in order.
type Requests = Arc<Mutex<Vec<(String, String)>>>;

/// Answers every request with 418 and records `(METHOD, path)`.
fn stub_server() -> (String, Requests) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut length = 0;
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
                if let Some((name, value)) = header.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let mut parts = line.split_whitespace();
            let method = parts.next().unwrap_or_default().to_owned();
            let target = parts.next().unwrap_or_default();
            let path = target.split('?').next().unwrap_or_default().to_owned();
            record.lock().expect("lock").push((method, path));
            let _ = stream.write_all(
                b"HTTP/1.1 418 I'm a teapot\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            );
        }
    });
    (url, seen)
}

/// The path template a recorded path was built from.
fn template(path: &str) -> String {
    let id = Uuid::nil().to_string();
    path.split('/')
        .enumerate()
        .map(|(i, segment)| match segment {
            s if s == id => "{id}".to_owned(),
            CODE => "{code}".to_owned(),
            "ktp" if i > 0 && path.contains("/documents/") => "{kind}".to_owned(),
            "ab12" if path.starts_with("/v/") => "{hash}".to_owned(),
            "surat-jalan" if path.contains("/documents/") => "{kind}".to_owned(),
            s if s == LINE => "{line}".to_owned(),
            other => other.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn the_methods_call_every_listed_operation_once() {
    let (url, seen) = stub_server();
    let api = ApiClient::new(&url).expect("valid").with_token("t");
    let id = Uuid::nil();
    // Each call fails (418); only the request it sent matters here.
    let _ = api.health().await;
    let _ = api.readiness().await;
    let _ = api.version().await;
    let _ = api.metrics().await;
    let _ = api.staff_login(&StaffLoginRequest::default()).await;
    let _ = api.customer_login(&CustomerLoginRequest::default()).await;
    let _ = api.refresh(&RefreshRequest::default()).await;
    let _ = api.logout(&RefreshRequest::default()).await;
    let _ = api.change_password(&ChangePasswordRequest::default()).await;
    let _ = api.me().await;
    let _ = api
        .register_customer(&RegisterCustomerRequest::default())
        .await;
    let _ = api.my_profile().await;
    let _ = api
        .update_my_profile(&UpdateProfileRequest::default())
        .await;
    let _ = api.my_bookings().await;
    let _ = api
        .my_data_export(&sentra_protocol::ExportQuery::default())
        .await;
    let _ = api
        .erase_my_account(&sentra_protocol::EraseAccountRequest::default())
        .await;
    let _ = api.erase_customer(id).await;
    let _ = api.search(&SearchQuery::default()).await;
    let _ = api.free_units(&UnitsQuery::default()).await;
    let _ = api.sku_calendar(CODE, &CalendarQuery::default()).await;
    let _ = api
        .create_booking("k", &CreateBookingRequest::default())
        .await;
    let _ = api.booking(id).await;
    let _ = api.bookings(&BookingListQuery::default()).await;
    let _ = api.cancel_booking(id).await;
    let _ = api
        .confirm_booking(id, &ConfirmBookingRequest::default())
        .await;
    let _ = api.join_waitlist(&JoinWaitlistRequest::default()).await;
    let _ = api
        .sku_waitlist(CODE, &sentra_protocol::WaitlistQueueQuery::default())
        .await;
    let _ = api.waitlist_entry(id).await;
    let _ = api.leave_waitlist(id).await;
    let _ = api.branches().await;
    let _ = api.create_branch(&CreateBranchRequest::default()).await;
    let _ = api.skus().await;
    let _ = api.create_sku(&CreateSkuRequest::default()).await;
    let _ = api.update_sku(CODE, &UpdateSkuRequest::default()).await;
    let _ = api.assets(&AssetQuery::default()).await;
    let _ = api.create_asset(&CreateAssetRequest::default()).await;
    let _ = api.asset(id).await;
    let _ = api.update_asset(id, &UpdateAssetRequest::default()).await;
    let _ = api.transfer_asset(id, &TransferRequest::default()).await;
    let _ = api.transfer(id).await;
    let _ = api.label(id).await;
    let _ = api.label_pdf(id).await;
    let _ = api.reissue_label(id).await;
    let _ = api.scan(&ScanRequest::default()).await;
    let _ = api.kyc_consent_text().await;
    let _ = api.give_consent(&GiveConsentRequest::default()).await;
    let _ = api.withdraw_kyc_consent().await;
    let _ = api.submit_kyc(&SubmitKycRequest::default()).await;
    let _ = api.my_kyc().await;
    let _ = api
        .ask_for_kyc_review(&sentra_protocol::HumanReviewRequest::default())
        .await;
    let _ = api.kyc_reviews().await;
    let _ = api.kyc_case(id).await;
    let _ = api.kyc_document(id, IdentityDocument::Ktp).await;
    let _ = api.decide_kyc(id, &KycDecisionRequest::default()).await;
    let _ = api.kyc_access_log(id).await;
    let _ = api.register_device(&RegisterDeviceRequest::default()).await;
    let _ = api.devices(&DeviceQuery::default()).await;
    let _ = api.revoke_device(id).await;
    let _ = api
        .sync_pull("device-token", &SyncPullQuery::default())
        .await;
    let _ = api.sync_push("device-token", &PushRequest::default()).await;
    call_handover_methods(&api, id).await;
    call_notification_methods(&api).await;

    let recorded: Vec<(String, String)> = seen
        .lock()
        .expect("lock")
        .iter()
        .map(|(method, path)| (method.to_lowercase(), template(path)))
        .collect();
    let unique: BTreeSet<_> = recorded.iter().cloned().collect();
    assert_eq!(unique.len(), recorded.len(), "an operation is called twice");
    let listed: BTreeSet<(String, String)> = endpoints::ALL
        .iter()
        .map(|e| (e.method.as_openapi().to_owned(), e.path.to_owned()))
        .collect();
    assert_eq!(unique, listed, "the methods and endpoints::ALL disagree");
}

/// The handover methods (one call each).
async fn call_handover_methods(api: &ApiClient, id: Uuid) {
    let input = sentra_protocol::InspectionInput {
        id,
        kind: sentra_domain::InspectionKind::Pickup,
        booking_id: None,
        asset_id: None,
        corrects: None,
        checklist: Vec::new(),
        odometer_km: 0,
        fuel_eighths: 0,
        damages: Vec::new(),
        photos: Vec::new(),
        customer_signature: None,
        staff_signature: id,
        recorded_at: None,
        device_id: None,
    };
    let pickup = sentra_protocol::PickupRequest {
        inspection: input.clone(),
        early_reason: None,
    };
    let _ = api.pick_up(id, &pickup).await;
    let back = sentra_protocol::ReturnRequest {
        inspection: input.clone(),
    };
    let _ = api.take_back(id, &back).await;
    let _ = api.complete_rental(id).await;
    let _ = api.record_inspection(&input).await;
    let _ = api.inspection(id).await;
    let _ = api.verify_inspection(id).await;
    let _ = api.verify_page("ab12").await;
    let _ = api
        .upload("JKT01", sentra_protocol::UploadPurpose::Photo, b"x")
        .await;
    let presign = sentra_protocol::PresignRequest {
        content_type: "image/jpeg".to_owned(),
        size_bytes: 1,
        sha256: String::new(),
    };
    let _ = api.presign_upload("JKT01", &presign).await;
    let _ = api.complete_upload(id).await;
    let _ = api.overdue(CODE).await;
    let _ = api.rental_document(id, "surat-jalan").await;
    let _ = api.document_pdf(id).await;
    let plan = sentra_protocol::CreatePlanRequest {
        sku: None,
        asset_id: None,
        name: String::new(),
        every_days: None,
        every_km: None,
        duration_days: None,
    };
    let _ = api.create_maintenance_plan(&plan).await;
    let _ = api.maintenance_plans().await;
    let open = sentra_protocol::OpenWorkOrderRequest {
        start: chrono::NaiveDate::default(),
        end: chrono::NaiveDate::default(),
        reason: String::new(),
        plan_id: None,
        reassign: false,
    };
    let _ = api.open_work_order(id, &open).await;
    let close = sentra_protocol::CloseWorkOrderRequest {
        cost_idr: 0,
        notes: String::new(),
    };
    let _ = api.close_work_order(id, &close).await;
    let _ = api.maintenance_overview(CODE).await;
    let _ = api.payment_quote(id).await;
    let start = sentra_protocol::StartPaymentRequest {
        method: sentra_domain::payment::PaymentMethod::Card,
        card_token: Some("tok".to_owned()),
        gopay_account_id: None,
        gopay_payment_option_token: None,
    };
    let _ = api.start_payment(id, &start).await;
    let _ = api.booking_payment(id).await;
    let counter = sentra_protocol::CounterPaymentRequest {
        method: sentra_domain::payment::PaymentMethod::Cash,
        reference: None,
    };
    let _ = api.counter_payment(id, &counter).await;
    let _ = api.counter_return(id).await;
    let _ = api.charges(id).await;
    let damage = sentra_protocol::AddDamageRequest {
        description: String::new(),
        amount: sentra_domain::Money::ZERO,
        reason: String::new(),
        inspection_id: id,
    };
    let _ = api.add_damage(id, &damage).await;
    let _ = api.remove_damage(id, LINE.parse().expect("a uuid")).await;
    let _ = api.confirm_charges(id, sentra_domain::Money::ZERO).await;
    let _ = api.invoice_pdf(id).await;
    let _ = api.midtrans_webhook(&serde_json::json!({})).await;
    let _ = api.xendit_webhook("token", &serde_json::json!({})).await;
    let _ = api.payments_report().await;
    let _ = api.reconcile_payments().await;
}

async fn call_notification_methods(api: &ApiClient) {
    let _ = api.my_notification_preferences().await;
    let _ = api
        .update_my_notification_preferences(
            &sentra_protocol::UpdateNotificationPreferences::default(),
        )
        .await;
    let _ = api.notification_problems().await;
    let _ = api.whatsapp_verify("token", "challenge").await;
    let _ = api.whatsapp_webhook("sha256=00", b"{}").await;
}
