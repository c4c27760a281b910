//! The customer's side: the quote of a booking, starting its payment (a card or `GoPay` hold at
//! the branch's provider), and everything the booking's payment went through. And the
//! counter's side: a deposit (or the bill's remainder) paid in cash or by transfer, with a
//! numbered receipt (`KW/<branch>/<year>/<6 digits>`).
//!
//! A hold row is written (PENDING, with a safety-net sync job) before the provider is asked, so
//! an answer lost in a timeout is found again by the job; the provider's answer is recorded
//! through [`Payments::record`], which confirms the booking in the same transaction.

use chrono::{DateTime, Datelike, Utc};
use sentra_domain::{
    BookingStatus, BranchTimeZone, Money, SubjectKind,
    charges::{Quote, quote},
    payment::{HoldStatus, PaymentMethod, PaymentProvider, RemoteState},
};
use sentra_protocol::{BookingPayment, CounterPaymentRequest, PaymentQuote, StartPaymentRequest};
use uuid::Uuid;

use super::{
    PaymentError, Payments,
    drive::Recorded,
    gateway::{AuthoriseRequest, GatewayError, Instrument, Report},
    holds::{self, CHARGE, DEPOSIT, HoldRow},
};
use crate::{
    auth::Principal,
    jobs::{self, PaymentSync},
};

/// What the payment of a booking depends on, read in one query.
#[derive(Debug, sqlx::FromRow)]
pub struct BookingFacts {
    pub id: Uuid,
    pub branch_id: Uuid,
    pub branch_code: String,
    pub time_zone: String,
    pub customer_id: Uuid,
    pub status: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub start_date: chrono::NaiveDate,
    pub end_date: chrono::NaiveDate,
    pub daily_rate_idr: i64,
    pub deposit_idr: i64,
    /// The rental's price, fixed when it was booked.
    pub total_idr: i64,
}

impl BookingFacts {
    pub fn status(&self) -> BookingStatus {
        self.status.parse().unwrap_or(BookingStatus::Cancelled)
    }

    pub fn zone(&self) -> BranchTimeZone {
        self.time_zone.parse().unwrap_or(BranchTimeZone::Wib)
    }

    /// The rental (at the rate it was booked at) and the deposit, held together.
    pub fn quote(&self) -> Result<Quote, PaymentError> {
        let days = u32::try_from((self.end_date - self.start_date).num_days()).unwrap_or(0);
        let booked_rate = match i64::from(days) {
            0 => self.daily_rate_idr,
            n if self.total_idr > 0 => self.total_idr / n,
            _ => self.daily_rate_idr,
        };
        quote(
            Money::from_rupiah(booked_rate),
            days,
            Money::from_rupiah(self.deposit_idr),
        )
        .ok_or_else(|| PaymentError::Invalid("the amount is too large".to_owned()))
    }
}

/// Whether `principal` may see the payment of a booking: its customer, or staff of its branch.
pub fn may_see(principal: &Principal, facts: &BookingFacts) -> bool {
    match principal.kind {
        SubjectKind::Customer => principal.id == facts.customer_id,
        SubjectKind::Staff => principal.can_access_branch(facts.branch_id),
    }
}

impl Payments {
    /// The booking's payment facts, if `principal` may see them (else "not found").
    pub async fn facts(
        &self,
        principal: &Principal,
        booking: Uuid,
    ) -> Result<BookingFacts, PaymentError> {
        let facts: Option<BookingFacts> = sqlx::query_as(
            "SELECT b.id, b.branch_id, br.code AS branch_code, br.time_zone, b.customer_id, \
                    b.status, b.expires_at, lower(b.period) AS start_date, \
                    upper(b.period) AS end_date, s.daily_rate_idr, s.deposit_idr, b.total_idr \
             FROM bookings b JOIN branches br ON br.id = b.branch_id \
             JOIN assets a ON a.id = b.asset_id JOIN skus s ON s.id = a.sku_id \
             WHERE b.id = $1 AND b.kind = 'RENTAL'",
        )
        .bind(booking)
        .fetch_optional(&self.db)
        .await?;
        facts
            .filter(|f| may_see(principal, f))
            .ok_or(PaymentError::NotFound("Booking"))
    }

    /// The price of a booking and what the card will hold.
    pub async fn quote(
        &self,
        principal: &Principal,
        booking: Uuid,
    ) -> Result<PaymentQuote, PaymentError> {
        let facts = self.facts(principal, booking).await?;
        let q = facts.quote()?;
        let provider = self.config.provider_of(&facts.branch_code);
        Ok(PaymentQuote {
            booking_id: facts.id,
            days: q.days,
            daily_rate: q.daily_rate,
            rental: q.rental,
            deposit: q.deposit,
            hold: q.hold,
            provider,
            methods: match provider {
                // Deposits by card (`GoPay` holds last 15 minutes: for a bill above the
                // deposit only; Xendit holds cards only).
                PaymentProvider::Midtrans | PaymentProvider::Xendit => vec![PaymentMethod::Card],
                PaymentProvider::Manual => vec![],
            },
            pay_before: facts.expires_at,
        })
    }

    /// Starts (or, asked again, answers) the payment of a pending booking (a hold of the
    /// rental and deposit) or of a bill above its hold (captured at once). Authorised, the booking is confirmed; pending, the customer
    /// completes 3-D Secure at `action_url`; authorised after the window lapsed, it is voided.
    pub async fn start(
        &self,
        principal: &Principal,
        booking: Uuid,
        request: &StartPaymentRequest,
    ) -> Result<HoldRow, PaymentError> {
        let facts = self.facts(principal, booking).await?;
        let provider = self.config.provider_of(&facts.branch_code);
        if provider == PaymentProvider::Manual {
            return Err(PaymentError::PayAtCounter);
        }
        let instrument = instrument(request)?;
        let settlement = self.settlement_of(booking).await?;
        let (purpose, amount) = match &settlement {
            // The bill left something above the hold: a new payment, taken at once.
            Some(s) if s.outstanding > Money::ZERO => (CHARGE, s.outstanding),
            _ => (DEPOSIT, facts.quote()?.hold),
        };
        let mut tx = self.db.begin().await?;
        if let Some(live) = holds::live_locked(&mut tx, booking, purpose).await? {
            // Asked again (a double click, a retry): the same hold answers.
            return Ok(live);
        }
        if purpose == DEPOSIT {
            if instrument.method() == PaymentMethod::Gopay {
                return Err(PaymentError::Invalid(
                    "a GoPay hold lasts 15 minutes and cannot be captured in part: pay the \
                     deposit by card (GoPay pays a bill above the deposit)"
                        .to_owned(),
                ));
            }
            if facts.status() == BookingStatus::Expired {
                return Err(PaymentError::WindowClosed);
            }
            if facts.status() != BookingStatus::PendingPayment {
                return Err(PaymentError::InvalidState {
                    status: facts.status(),
                    action: "paid",
                });
            }
            if facts.expires_at.is_none_or(|at| at <= Utc::now()) {
                return Err(PaymentError::WindowClosed);
            }
        }
        let id = Uuid::now_v7();
        let order_id = format!("SR-{}", id.simple());
        let row: HoldRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO payment_holds (id, booking_id, branch_id, customer_id, provider, method, \
               purpose, status, amount_idr, order_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'PENDING', $8, $9) RETURNING {}",
            holds::HOLD_COLUMNS
        )))
        .bind(id)
        .bind(booking)
        .bind(facts.branch_id)
        .bind(facts.customer_id)
        .bind(provider.as_str())
        .bind(instrument.method().as_str())
        .bind(purpose)
        .bind(amount.rupiah())
        .bind(&order_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if crate::db::has_sqlstate(&e, &["23505"]) {
                // The same payment started at this very moment (a double click).
                PaymentError::Conflict(
                    "this payment is being started already; read the booking's payment".to_owned(),
                )
            } else {
                e.into()
            }
        })?;
        // The safety net: should the answer below be lost, the job asks the provider later.
        jobs::enqueue(
            &mut tx,
            &PaymentSync { hold_id: id },
            Some(Utc::now() + chrono::Duration::seconds(60)),
        )
        .await?;
        tx.commit().await?;
        self.authorise(row, &instrument, "Sewa kendaraan SentraRental")
            .await
    }

    /// Asks the provider for the hold and records the answer.
    async fn authorise(
        &self,
        row: HoldRow,
        instrument: &Instrument,
        description: &str,
    ) -> Result<HoldRow, PaymentError> {
        let gateway = self.gateway(row.provider())?;
        let answer = gateway
            .authorise(&AuthoriseRequest {
                order_id: &row.order_id,
                amount: Money::from_rupiah(row.amount_idr),
                instrument,
                description,
            })
            .await;
        let report = match answer {
            Ok(report) => report,
            Err(GatewayError::Unavailable(why)) => {
                // The hold may or may not exist at the provider: the sync job will find out.
                tracing::warn!(hold = %row.id, why, "the provider did not answer; checking later");
                return Ok(row);
            }
            Err(GatewayError::Refused(why)) => {
                let report = Report {
                    state: RemoteState::Failed,
                    failure: Some(why.clone()),
                    ..Report::nothing()
                };
                self.record(row.id, &report, "api").await?;
                return Err(PaymentError::Declined(why));
            }
            Err(e) => return Err(e.into()),
        };
        let recorded = self.record(row.id, &report, "api").await?;
        match recorded {
            Recorded::LapsedVoiding(row) => {
                // Voided at once (the job retries should this call fail).
                if let Err(e) = self.release(row.id).await {
                    tracing::warn!(hold = %row.id, error = %e, "voiding now failed; the job retries");
                }
                Err(PaymentError::WindowLapsed {
                    amount: Money::from_rupiah(row.authorised_idr),
                })
            }
            Recorded::Hold(row) if row.status() == HoldStatus::Failed => Err(
                PaymentError::Declined(report.failure.unwrap_or_else(|| "declined".to_owned())),
            ),
            Recorded::Hold(row) => Ok(row),
        }
    }

    /// Everything a booking's payment went through.
    pub async fn view(
        &self,
        principal: &Principal,
        booking: Uuid,
    ) -> Result<BookingPayment, PaymentError> {
        let facts = self.facts(principal, booking).await?;
        let rows = holds::of_booking(&self.db, booking).await?;
        let mut holds_out = Vec::with_capacity(rows.len());
        for row in &rows {
            holds_out.push(row.to_dto(holds::movements(&self.db, row.id).await?));
        }
        let settlement = self.settlement_of(booking).await?;
        let message = message(&facts, &rows, settlement.as_ref());
        Ok(BookingPayment {
            booking_id: booking,
            holds: holds_out,
            settlement,
            message,
        })
    }

    /// Staff record money taken at the counter: the deposit of a pending booking (which it
    /// confirms), or the part of a settled bill above the hold.
    pub async fn counter_payment(
        &self,
        principal: &Principal,
        booking: Uuid,
        request: &CounterPaymentRequest,
    ) -> Result<HoldRow, PaymentError> {
        if !matches!(
            request.method,
            PaymentMethod::Cash | PaymentMethod::Transfer
        ) {
            return Err(PaymentError::Invalid(
                "the counter takes cash or transfer".to_owned(),
            ));
        }
        let facts = self.facts(principal, booking).await?;
        let settlement = self.settlement_of(booking).await?;
        let (purpose, amount) = match &settlement {
            Some(s) if s.outstanding > Money::ZERO => (CHARGE, s.outstanding),
            Some(_) => {
                return Err(PaymentError::Invalid(
                    "the bill is settled; nothing is owed".to_owned(),
                ));
            }
            None if facts.status() == BookingStatus::PendingPayment => {
                (DEPOSIT, facts.quote()?.hold)
            }
            None => {
                // Recorded again (a double click): the same deposit answers.
                let mut tx = self.db.begin().await?;
                if let Some(live) = holds::live_locked(&mut tx, booking, DEPOSIT).await? {
                    return Ok(live);
                }
                return Err(PaymentError::InvalidState {
                    status: facts.status(),
                    action: "paid at the counter",
                });
            }
        };
        let zone = facts.zone();
        let year = zone.local_date_of(Utc::now()).year();
        let mut tx = self.db.begin().await?;
        // The lock order: the booking, then its holds (the deposit confirms the booking).
        sqlx::query("SELECT id FROM bookings WHERE id = $1 FOR UPDATE")
            .bind(booking)
            .execute(&mut *tx)
            .await?;
        if let Some(live) = holds::live_locked(&mut tx, booking, purpose).await? {
            if live.provider() != PaymentProvider::Manual {
                return Err(PaymentError::Conflict(
                    "a card payment of this booking is in progress; wait for it or ask the \
                     customer to finish it"
                        .to_owned(),
                ));
            }
            return Ok(live);
        }
        let receipt = super::settle::next_number(
            &mut tx,
            facts.branch_id,
            "RECEIPT",
            "KW",
            &facts.branch_code,
            year,
        )
        .await?;
        let row: HoldRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO payment_holds (id, booking_id, branch_id, customer_id, provider, method, \
               purpose, status, amount_idr, order_id, created_by) \
             VALUES ($1, $2, $3, $4, 'manual', $5, $6, 'PENDING', $7, $8, $9) RETURNING {}",
            holds::HOLD_COLUMNS
        )))
        .bind(Uuid::now_v7())
        .bind(booking)
        .bind(facts.branch_id)
        .bind(facts.customer_id)
        .bind(request.method.as_str())
        .bind(purpose)
        .bind(amount.rupiah())
        .bind(&receipt)
        .bind(principal.id)
        .fetch_one(&mut *tx)
        .await?;
        // Counted at the counter: held (and, for the bill's remainder, taken) in the same
        // transaction as the receipt, and the booking confirmed with it.
        let counted = Report {
            state: if purpose == CHARGE {
                RemoteState::Captured
            } else {
                RemoteState::Authorised
            },
            authorised: amount,
            captured: if purpose == CHARGE {
                amount
            } else {
                Money::ZERO
            },
            ..Report::nothing()
        };
        let recorded = self.record_in(&mut tx, &row, &counted, "staff").await?;
        if let Recorded::LapsedVoiding(_) = recorded {
            return Err(PaymentError::WindowClosed);
        }
        tx.commit().await?;
        Ok(recorded.row().clone())
    }
}

fn instrument(request: &StartPaymentRequest) -> Result<Instrument, PaymentError> {
    let present = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 255)
            .map(str::to_owned)
    };
    match request.method {
        PaymentMethod::Card => present(&request.card_token)
            .map(|token| Instrument::Card { token })
            .ok_or_else(|| PaymentError::Invalid("card_token is required for a card".to_owned())),
        PaymentMethod::Gopay => match (
            present(&request.gopay_account_id),
            present(&request.gopay_payment_option_token),
        ) {
            (Some(account_id), Some(payment_option_token)) => Ok(Instrument::Gopay {
                account_id,
                payment_option_token,
            }),
            _ => Err(PaymentError::Invalid(
                "gopay_account_id and gopay_payment_option_token are required for GoPay".to_owned(),
            )),
        },
        PaymentMethod::Cash | PaymentMethod::Transfer => Err(PaymentError::PayAtCounter),
    }
}

/// What happens next, for the customer (Bahasa Indonesia).
fn message(
    facts: &BookingFacts,
    rows: &[HoldRow],
    settlement: Option<&sentra_protocol::Settlement>,
) -> String {
    let deposit = rows.iter().rev().find(|r| r.purpose == DEPOSIT);
    let rest_paid = rows
        .iter()
        .any(|r| r.purpose == CHARGE && r.captured_idr > 0);
    match (deposit.map(HoldRow::status), settlement) {
        (_, Some(s)) if s.outstanding > Money::ZERO && !rest_paid => format!(
            "Tagihan melebihi jaminan sebesar {}; silakan bayar sisanya.",
            s.outstanding
        ),
        (Some(HoldStatus::Released), Some(s)) => format!(
            "Selesai: {} ditarik, {} dikembalikan ke kartu Anda.",
            s.captured, s.released
        ),
        (Some(HoldStatus::Captured), Some(s)) => format!(
            "{} ditarik; {} akan dikembalikan paling lambat 24 jam setelah sewa selesai.",
            s.captured, s.released
        ),
        (Some(HoldStatus::Authorised), _) => format!(
            "Dana jaminan {} ditahan di kartu Anda sampai sewa selesai.",
            Money::from_rupiah(deposit.map_or(0, |r| r.authorised_idr))
        ),
        (Some(HoldStatus::Pending), _) => {
            "Menunggu konfirmasi pembayaran (selesaikan verifikasi 3-D Secure bila diminta)."
                .to_owned()
        }
        (Some(HoldStatus::Voided), _) if facts.status() != BookingStatus::Confirmed => {
            "Batas waktu pembayaran terlewat: penahanan dana dibatalkan dan tidak ada biaya."
                .to_owned()
        }
        (Some(HoldStatus::Failed), _) => "Pembayaran ditolak; silakan coba kartu lain.".to_owned(),
        (Some(HoldStatus::Expired), _) => "Penahanan dana telah berakhir.".to_owned(),
        (Some(HoldStatus::Released | HoldStatus::Voided), _) => {
            "Penahanan dana telah dilepas.".to_owned()
        }
        (Some(HoldStatus::Captured), None) => "Dana jaminan telah ditarik.".to_owned(),
        (None, _) if facts.status() == BookingStatus::PendingPayment => {
            "Belum dibayar: mulai pembayaran sebelum batas waktu.".to_owned()
        }
        (None, _) => "Tidak ada pembayaran tercatat.".to_owned(),
    }
}
