//! One booking followed through the logs, as an operator would: the real server binary writes
//! JSON lines, and every line about the booking carries the request it came from, who made it,
//! the handler and the service call, down to the background job its cancellation started.

use std::time::{Duration, Instant};

use sentra_api_client::ApiClient;
use sentra_domain::BookingStatus;
use sentra_protocol::{
    AssetQuery, ConfirmBookingRequest, CreateBookingRequest, CustomerProfile,
    RegisterCustomerRequest, StaffLoginRequest, TokenResponse,
};
use serde_json::Value;

use crate::{fixtures::day, logged::LoggedServer};

/// The span of `line` named `name`, if the line is inside one.
fn span<'a>(line: &'a Value, name: &str) -> Option<&'a Value> {
    line["spans"].as_array()?.iter().find(|s| s["name"] == name)
}

/// The lines of `logs` that name `booking` in an event field or in any of their spans.
fn lines_about(logs: &str, booking: &str) -> Vec<Value> {
    logs.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|line| {
            line["booking"] == booking
                || line["spans"]
                    .as_array()
                    .is_some_and(|spans| spans.iter().any(|s| s["booking"] == booking))
        })
        .collect()
}

/// Waits (bounded, 20 s) until the server has logged `message` about `booking`.
async fn wait_for_line(server: &LoggedServer, booking: &str, message: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    while !lines_about(&server.logs_so_far()?, booking)
        .iter()
        .any(|line| line["message"] == message)
    {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(20),
            "the server never logged {message:?} about {booking}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// HQ staff logged in, and a new customer registered as `name` with `email`.
async fn staff_and_customer(
    api: &ApiClient,
    name: &str,
    email: &str,
) -> anyhow::Result<(TokenResponse, CustomerProfile)> {
    let tokens = api
        .staff_login(&StaffLoginRequest {
            email: "hq@demo.sentrarental.id".to_owned(),
            password: "demo-hq-2026".to_owned(),
        })
        .await?;
    let customer = api
        .register_customer(&RegisterCustomerRequest {
            full_name: name.to_owned(),
            email: Some(email.to_owned()),
            password: "rahasia-sekali-2026".to_owned(),
            ..RegisterCustomerRequest::default()
        })
        .await?;
    Ok((tokens, customer))
}

#[tokio::test]
async fn one_booking_can_be_followed_through_the_logs_from_request_to_job() -> anyhow::Result<()> {
    // Jobs run every 200 ms, so the cancellation's job follows quickly.
    let server = LoggedServer::start(&[("SENTRA_EXPIRY_SWEEP_MILLIS", "200")]).await?;
    let (staff_id, access_token, booking) =
        book_confirm_and_cancel(&ApiClient::new(&server.base)?).await?;

    // The cancellation's job runs in the background: wait (bounded) until its line is written.
    let id = booking.to_string();
    wait_for_line(&server, &id, "freed unit handed to the waitlist").await?;
    let logs = server.stop_and_read_logs()?;
    let lines = lines_about(&logs, &id);

    // Create, confirm and cancel: each is found by the booking id, inside its own request (one
    // request id each), with the caller, the handler and the service call that did it.
    let mut request_ids = Vec::new();
    for (handler, service, message) in [
        (
            "http.bookings.create",
            "booking.attempt",
            "booking held for payment",
        ),
        (
            "http.bookings.confirm",
            "booking.confirm",
            "booking confirmed",
        ),
        (
            "http.bookings.cancel",
            "booking.cancel",
            "booking cancelled",
        ),
    ] {
        let line = lines
            .iter()
            .find(|l| l["message"] == message)
            .unwrap_or_else(|| panic!("no {message:?} line about the booking in:\n{logs}"));
        let request = span(line, "request").expect("inside its request span");
        assert_eq!(request["principal"], staff_id.to_string(), "{line}");
        assert_eq!(request["role"], "hq_admin", "{line}");
        assert!(
            span(line, handler).is_some(),
            "{message}: no {handler} span: {line}"
        );
        assert_eq!(
            span(line, service).expect("the service span")["booking"],
            id
        );
        let request_id = request["request_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(!request_id.is_empty(), "{line}");
        request_ids.push(request_id);
    }
    let distinct: std::collections::HashSet<&String> = request_ids.iter().collect();
    assert_eq!(
        distinct.len(),
        3,
        "one request id per call: {request_ids:?}"
    );

    // The waitlist job the cancellation queued names the booking too, in its job span.
    let job = lines
        .iter()
        .find(|l| l["message"] == "freed unit handed to the waitlist")
        .unwrap_or_else(|| panic!("no job line about the booking in:\n{logs}"));
    assert_eq!(span(job, "job").expect("job span")["kind"], "unit_freed");

    // Spans record ids, never what was sent: no e-mail, password or token anywhere.
    for secret in [
        "rina.trace@example.com",
        "rahasia-sekali-2026",
        "demo-hq-2026",
        access_token.as_str(),
    ] {
        assert!(!logs.contains(secret), "the logs contain {secret}");
    }
    Ok(())
}

/// HQ staff book a demo Avanza for a new customer, confirm the deposit, then cancel. Returns
/// the staff member's id, their access token and the booking's id.
async fn book_confirm_and_cancel(
    api: &ApiClient,
) -> anyhow::Result<(uuid::Uuid, String, uuid::Uuid)> {
    let (tokens, customer) =
        staff_and_customer(api, "Rina Wulandari", "rina.trace@example.com").await?;
    let staff = api.with_token(&tokens.access_token);
    let asset = staff
        .assets(&AssetQuery {
            branch: Some("JKT01".to_owned()),
        })
        .await?
        .items
        .into_iter()
        .find(|a| a.sku_code == "AVANZA-13G-AT")
        .expect("a demo Avanza at JKT01");
    let booking = staff
        .create_booking(
            "trace-1",
            &CreateBookingRequest {
                sku: None,
                branch: None,
                near: None,
                asset_id: Some(asset.id),
                customer_id: customer.id,
                start: day(5),
                end: day(7),
            },
        )
        .await?;
    let hold_token = booking.hold_token.expect("a hold token");
    staff
        .confirm_booking(booking.id, &ConfirmBookingRequest { hold_token })
        .await?;
    staff.cancel_booking(booking.id).await?;

    Ok((tokens.me.id, tokens.access_token, booking.id))
}

#[tokio::test]
async fn a_hold_that_lapses_unpaid_is_found_by_its_id_too() -> anyhow::Result<()> {
    let server = LoggedServer::start(&[
        ("SENTRA_PAYMENT_WINDOW_SECS", "1"),
        ("SENTRA_EXPIRY_SWEEP_MILLIS", "200"),
    ])
    .await?;
    let api = ApiClient::new(&server.base)?;
    let (tokens, customer) =
        staff_and_customer(&api, "Yogi Pratama", "yogi.trace@example.com").await?;
    let staff = api.with_token(&tokens.access_token);
    let booking = staff
        .create_booking(
            "lapse-1",
            &CreateBookingRequest {
                sku: Some("AVANZA-13G-AT".to_owned()),
                branch: Some("JKT01".to_owned()),
                customer_id: customer.id,
                start: day(9),
                end: day(11),
                ..CreateBookingRequest::default()
            },
        )
        .await?;
    let id = booking.id.to_string();
    // The sweeper runs every 200 ms once the second has passed.
    wait_for_line(&server, &id, "booking expired: the payment window lapsed").await?;
    assert_eq!(
        staff.booking(booking.id).await?.status,
        BookingStatus::Expired,
        "what the log says happened"
    );
    let logs = server.stop_and_read_logs()?;
    let lines = lines_about(&logs, &id);
    let held = lines
        .iter()
        .find(|l| l["message"] == "booking held for payment")
        .expect("the hold");
    assert!(
        span(held, "booking.assign").is_some(),
        "booked by model: {held}"
    );
    let expired = lines
        .iter()
        .find(|l| l["message"] == "booking expired: the payment window lapsed")
        .expect("the expiry");
    assert!(
        span(expired, "booking.expire_lapsed").is_some(),
        "inside the sweeper's span: {expired}"
    );
    Ok(())
}
