//! The payment tests' rig: the server with the demo data, JKT01's deposits held at a provider's
//! contract server (Midtrans or Xendit), a demo customer logged in, and the steps of a rental
//! (book, pay, pick up, return) as the customer and the counter take them.

use chrono::{Days, NaiveDate};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{fake_midtrans::FakeMidtrans, fake_xendit::FakeXendit};
use crate::{
    handover::support::{app_with, files, inspection, move_period, today_wib},
    support::TestApp,
};

/// Which provider JKT01 uses in a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Provider {
    Midtrans,
    Xendit,
    Counter,
}

pub(crate) struct Rig {
    pub(crate) app: TestApp,
    pub(crate) midtrans: FakeMidtrans,
    pub(crate) xendit: FakeXendit,
    pub(crate) avanzas: Vec<Uuid>,
    pub(crate) customer: Uuid,
    pub(crate) customer_token: String,
}

/// A rig whose JKT01 holds deposits at `provider`, with `extra` environment variables.
pub(crate) async fn rig(provider: Provider, extra: &[(&str, &str)]) -> anyhow::Result<Rig> {
    let midtrans = FakeMidtrans::start().await?;
    let xendit = FakeXendit::start().await?;
    let branch = match provider {
        Provider::Midtrans => "JKT01=midtrans",
        Provider::Xendit => "JKT01=xendit",
        Provider::Counter => "JKT01=manual",
    };
    let mut vars = vec![
        ("SENTRA_PAYMENT_PROVIDERS", branch),
        ("SENTRA_MIDTRANS_URL", midtrans.url.as_str()),
        (
            "SENTRA_MIDTRANS_SERVER_KEY",
            super::fake_midtrans::SERVER_KEY,
        ),
        ("SENTRA_XENDIT_URL", xendit.url.as_str()),
        ("SENTRA_XENDIT_SECRET_KEY", super::fake_xendit::SECRET_KEY),
        (
            "SENTRA_XENDIT_CALLBACK_TOKEN",
            super::fake_xendit::CALLBACK_TOKEN,
        ),
        // Short enough for the timeout tests, long enough for a busy CI machine.
        ("SENTRA_PAYMENT_TIMEOUT_SECS", "5"),
    ];
    vars.extend_from_slice(extra);
    let (app, avanzas, people) = app_with(&vars).await?;
    let email: String = sqlx::query_scalar("SELECT email FROM customers WHERE id = $1")
        .bind(people[0])
        .fetch_one(&app.db)
        .await?;
    let (status, tokens) = app
        .post(
            "/api/v1/auth/customer/login",
            None,
            &json!({"login": email, "password": "demo-pelanggan-2026"}),
        )
        .await?;
    anyhow::ensure!(status == 200, "customer login: {status} {tokens}");
    Ok(Rig {
        app,
        midtrans,
        xendit,
        avanzas,
        customer: people[0],
        customer_token: tokens["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    })
}

/// Day `n` from today at JKT01.
pub(crate) fn day(n: u64) -> NaiveDate {
    today_wib() + Days::new(n)
}

impl Rig {
    /// The customer's request to `path`.
    pub(crate) async fn as_customer(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let mut request = self
            .app
            .client
            .request(method, format!("{}{path}", self.app.base_url))
            .bearer_auth(&self.customer_token)
            .header("Idempotency-Key", Uuid::new_v4().to_string());
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// The customer books Avanza `unit` for `days` days from tomorrow.
    pub(crate) async fn book(&self, unit: usize, days: u64) -> anyhow::Result<Uuid> {
        let body =
            crate::fixtures::booking_body(self.avanzas[unit], self.customer, day(1), day(1 + days));
        let (status, booking) = self
            .as_customer(reqwest::Method::POST, "/api/v1/bookings", Some(&body))
            .await?;
        anyhow::ensure!(status == 201, "booking: {status} {booking}");
        Ok(serde_json::from_value(booking["id"].clone())?)
    }

    /// The customer pays with `token` (a Midtrans or Xendit card token).
    pub(crate) async fn pay(&self, booking: Uuid, token: &str) -> anyhow::Result<(u16, Value)> {
        self.as_customer(
            reqwest::Method::POST,
            &format!("/api/v1/bookings/{booking}/payment"),
            Some(&json!({"method": "card", "card_token": token})),
        )
        .await
    }

    /// The booking's payment as its customer sees it.
    pub(crate) async fn payment(&self, booking: Uuid) -> anyhow::Result<Value> {
        let (status, body) = self
            .as_customer(
                reqwest::Method::GET,
                &format!("/api/v1/bookings/{booking}/payment"),
                None,
            )
            .await?;
        anyhow::ensure!(status == 200, "payment: {status} {body}");
        Ok(body)
    }

    /// The booking's first (deposit) hold as the customer sees it.
    pub(crate) async fn hold(&self, booking: Uuid) -> anyhow::Result<Value> {
        Ok(self.payment(booking).await?["holds"][0].clone())
    }

    /// Staff hand the car over today (the booking's days moved to start today) with `fuel`.
    pub(crate) async fn pick_up(&self, booking: Uuid, days: u64) -> anyhow::Result<()> {
        let today = today_wib();
        move_period(&self.app, booking, today, today + Days::new(days)).await?;
        let out = files(&self.app, 1).await?;
        let body = json!({"inspection": inspection("PICKUP", booking, &out, 42_100)});
        let (status, answer) = self
            .app
            .post(&format!("/api/v1/bookings/{booking}/pickup"), None, &body)
            .await?;
        anyhow::ensure!(status == 200, "pickup: {status} {answer}");
        Ok(())
    }

    /// Staff take the car back with `fuel_eighths` in the tank; returns the RETURN inspection.
    pub(crate) async fn take_back(&self, booking: Uuid, fuel_eighths: u8) -> anyhow::Result<Uuid> {
        let back = files(&self.app, 2).await?;
        let mut record = inspection("RETURN", booking, &back, 42_900);
        record["fuel_eighths"] = json!(fuel_eighths);
        let (status, answer) = self
            .app
            .post(
                &format!("/api/v1/bookings/{booking}/return"),
                None,
                &json!({"inspection": record}),
            )
            .await?;
        anyhow::ensure!(status == 200, "return: {status} {answer}");
        Ok(serde_json::from_value(answer["inspection"]["id"].clone())?)
    }

    /// The booking's bill as staff see it.
    pub(crate) async fn charges(&self, booking: Uuid) -> anyhow::Result<Value> {
        let (status, charges) = self
            .app
            .get_json(&format!("/api/v1/bookings/{booking}/charges"))
            .await?;
        anyhow::ensure!(status == 200, "charges: {status} {charges}");
        Ok(charges)
    }

    /// Staff confirm the bill's `total`.
    pub(crate) async fn confirm(&self, booking: Uuid, total: i64) -> anyhow::Result<(u16, Value)> {
        self.app
            .post(
                &format!("/api/v1/bookings/{booking}/charges/confirm"),
                None,
                &json!({"total": total}),
            )
            .await
    }

    /// Staff complete the rental.
    pub(crate) async fn complete(&self, booking: Uuid) -> anyhow::Result<(u16, Value)> {
        self.app
            .post(
                &format!("/api/v1/bookings/{booking}/complete"),
                None,
                &json!({}),
            )
            .await
    }

    /// The ledger of a hold as `(entry, amount)` rows, in order.
    pub(crate) async fn ledger(&self, hold: &str) -> anyhow::Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT entry, amount_idr FROM payment_ledger WHERE hold_id = $1::uuid ORDER BY id",
        )
        .bind(hold)
        .fetch_all(&self.app.db)
        .await?)
    }

    /// Runs the due jobs until none is left, including those the server's own job loop is
    /// running at this moment (bounded: 400 rounds, 25 ms apart when waiting on the loop).
    pub(crate) async fn settle_jobs(&self) -> anyhow::Result<()> {
        for _ in 0..400 {
            self.app.run_jobs().await?;
            let due: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE run_at <= now()")
                .fetch_one(&self.app.db)
                .await?;
            if due == 0 {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        anyhow::bail!("jobs kept coming")
    }
}

/// Every hold's ledger balances with the hold: what was authorised is what was captured,
/// released, voided or lapsed, plus what is still held; refunds come out of captures.
pub(crate) async fn assert_ledgers_balance(rig: &Rig) -> anyhow::Result<()> {
    let off: Vec<(String, String)> = sqlx::query_as(
        "SELECT h.order_id, h.status FROM payment_holds h \
         LEFT JOIN LATERAL (SELECT \
             coalesce(sum(amount_idr) FILTER (WHERE entry = 'AUTHORISED'), 0) AS authorised, \
             coalesce(sum(amount_idr) FILTER (WHERE entry = 'CAPTURED'), 0) AS captured, \
             coalesce(sum(amount_idr) FILTER (WHERE entry IN ('RELEASED', 'VOIDED', 'EXPIRED')), 0) AS returned, \
             coalesce(sum(amount_idr) FILTER (WHERE entry = 'REFUNDED'), 0) AS refunded \
           FROM payment_ledger l WHERE l.hold_id = h.id) l ON true \
         WHERE l.authorised <> h.authorised_idr OR l.captured <> h.captured_idr \
            OR l.returned <> h.returned_idr OR l.refunded <> h.refunded_idr \
            OR (h.status IN ('RELEASED', 'VOIDED', 'EXPIRED', 'FAILED') \
                AND h.authorised_idr <> h.captured_idr + h.returned_idr)",
    )
    .fetch_all(&rig.app.db)
    .await?;
    assert!(off.is_empty(), "ledgers that do not balance: {off:?}");
    Ok(())
}

/// The amount of a JSON money value.
pub(crate) fn rp(value: &Value) -> i64 {
    value.as_i64().unwrap_or(i64::MIN)
}
