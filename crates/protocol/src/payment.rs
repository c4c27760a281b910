//! Payment bodies: the quote of a booking, starting a payment (a deposit hold on the card or
//! at the counter), the holds with every movement, the return's charges and their settlement,
//! and HQ's reports. Amounts are integer Rupiah.

use chrono::{DateTime, NaiveDate, Utc};
use sentra_domain::{
    Money, Uuid,
    charges::ChargeKind,
    payment::{HoldStatus, PaymentMethod, PaymentProvider},
};
use serde::{Deserialize, Serialize};

/// What a booking costs and what the card will hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentQuote {
    pub booking_id: Uuid,
    /// Rental days (local dates in the branch's time zone).
    pub days: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub daily_rate: Money,
    /// `daily_rate × days`.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub rental: Money,
    /// The refundable deposit.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub deposit: Money,
    /// What is held: rental plus deposit. Only the rental and what a late return or damage
    /// justifies is taken; the rest is released within 24 hours of completion.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub hold: Money,
    /// Who holds it at this branch.
    pub provider: PaymentProvider,
    /// The methods the branch accepts online (empty: pay at the counter).
    pub methods: Vec<PaymentMethod>,
    /// The end of the booking's payment window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_before: Option<DateTime<Utc>>,
}

/// Starts the payment of a booking.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartPaymentRequest {
    /// `card` or `gopay` (Midtrans only).
    pub method: PaymentMethod,
    /// The token from the provider's card tokenisation in the browser (Midtrans `token_id`,
    /// Xendit `payment_token_id`). Never a card number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_token: Option<String>,
    /// `GoPay` tokenisation: the linked account and its payment option token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gopay_account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gopay_payment_option_token: Option<String>,
}

impl std::fmt::Debug for StartPaymentRequest {
    /// Tokens are credentials: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StartPaymentRequest")
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// Staff record a deposit (or the bill's remainder) paid at the counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CounterPaymentRequest {
    /// `cash` or `transfer`.
    pub method: PaymentMethod,
    /// The bank transfer's reference, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// One movement of a hold, as the ledger has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HoldMovement {
    /// AUTHORISED, CAPTURED, RELEASED, VOIDED or EXPIRED.
    pub entry: String,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub amount: Money,
    pub status_after: HoldStatus,
    pub at: DateTime<Utc>,
}

/// A hold (a card pre-authorisation, or a deposit kept at the counter) and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentHold {
    pub id: Uuid,
    pub booking_id: Uuid,
    pub provider: PaymentProvider,
    pub method: PaymentMethod,
    /// DEPOSIT (before pickup) or CHARGE (the bill above the hold).
    pub purpose: String,
    pub status: HoldStatus,
    /// Asked for.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub amount: Money,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub authorised: Money,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub captured: Money,
    /// Released, voided or lapsed: back with the customer.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub returned: Money,
    /// Refunded after a capture (a deposit captured before its hold lapsed).
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub refunded: Money,
    /// Still held.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub held: Money,
    /// Our reference at the provider, or the counter receipt's number.
    pub reference: String,
    /// Where the customer completes 3-D Secure or an app approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_url: Option<String>,
    /// When the provider lets the hold go by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lapses_at: Option<DateTime<Utc>>,
    /// What staff must know (a hold about to lapse, a bank that cannot void it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention: Option<String>,
    /// The receipt number of a counter deposit's return.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_receipt: Option<String>,
    pub created_at: DateTime<Utc>,
    pub movements: Vec<HoldMovement>,
}

/// A line of the bill at return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChargeLine {
    /// Absent for computed lines not yet confirmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    pub kind: ChargeKind,
    pub description: String,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub amount: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The RETURN inspection that shows the damage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspection_id: Option<Uuid>,
}

/// Staff add a damage line from the RETURN inspection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddDamageRequest {
    /// What is damaged, as printed on the invoice ("Bumper depan penyok").
    pub description: String,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub amount: Money,
    /// Why it is charged (the workshop quote, the photo).
    pub reason: String,
    /// The booking's RETURN inspection that records the damage.
    pub inspection_id: Uuid,
}

/// Staff confirm the bill they were shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfirmChargesRequest {
    /// The total staff saw; a different current total is refused (`charges_changed`).
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub total: Money,
}

/// The confirmed bill: one capture, the rest released, anything above the hold charged apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settlement {
    pub id: Uuid,
    /// CAPTURING (the provider has not answered yet) or SETTLED.
    pub status: String,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub total: Money,
    /// Taken from the hold.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub captured: Money,
    /// Above the hold: paid by a new payment.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub outstanding: Money,
    /// Given back from the hold.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub released: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_number: Option<String>,
    /// `GET` this for the invoice PDF once settled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_path: Option<String>,
}

/// The bill of a returned booking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Charges {
    pub booking_id: Uuid,
    pub lines: Vec<ChargeLine>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub total: Money,
    /// What the deposit hold still holds.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub held: Money,
    /// What one capture would take (at most `held`).
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub capture: Money,
    /// What is left above the hold.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub outstanding: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement: Option<Settlement>,
}

/// Everything a booking's payment looks like to its customer or staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingPayment {
    pub booking_id: Uuid,
    pub holds: Vec<PaymentHold>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement: Option<Settlement>,
    /// A sentence for the customer (in Bahasa Indonesia) about what happens next.
    pub message: String,
}

/// A hold still holding money, for HQ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenHold {
    pub branch_code: String,
    pub hold_id: Uuid,
    pub booking_id: Uuid,
    pub provider: PaymentProvider,
    pub status: HoldStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub held: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lapses_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention: Option<String>,
}

/// Captured and released totals of one branch on one day (branch time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayTotals {
    pub day: NaiveDate,
    pub branch_code: String,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub authorised: Money,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub captured: Money,
    /// Released, voided, lapsed or refunded.
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub returned: Money,
}

/// A difference between our ledger and a provider's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReconciliationDifference {
    pub hold_id: Uuid,
    pub reference: String,
    pub provider: PaymentProvider,
    /// Ours: status and captured amount.
    pub ours: String,
    /// The provider's (or why it could not be read).
    pub theirs: String,
}

/// The latest reconciliation run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reconciliation {
    pub ran_at: DateTime<Utc>,
    /// Holds compared.
    pub compared: u32,
    pub differences: Vec<ReconciliationDifference>,
}

/// HQ's payment report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentsReport {
    pub open_holds: Vec<OpenHold>,
    pub days: Vec<DayTotals>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reconciliation: Option<Reconciliation>,
}
