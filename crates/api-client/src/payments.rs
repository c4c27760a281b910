//! Payments: a booking's quote and payment, counter deposits, the bill at return and its
//! invoice, the providers' webhooks (for tools and tests) and HQ's report.

use reqwest::StatusCode;
use sentra_domain::{Money, Uuid};
use sentra_protocol::{
    AddDamageRequest, BookingPayment, ChargeLine, Charges, ConfirmChargesRequest,
    CounterPaymentRequest, PaymentQuote, PaymentsReport, Reconciliation, Settlement,
    StartPaymentRequest,
};

use crate::{ApiClient, ApiError, endpoints};

impl ApiClient {
    /// `GET /api/v1/bookings/{id}/quote`.
    pub async fn payment_quote(&self, booking: Uuid) -> Result<PaymentQuote, ApiError> {
        let request = self.request(endpoints::PAYMENT_QUOTE, &[&booking.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/bookings/{id}/payment` (the customer).
    pub async fn start_payment(
        &self,
        booking: Uuid,
        body: &StartPaymentRequest,
    ) -> Result<BookingPayment, ApiError> {
        let request = self
            .request(endpoints::START_PAYMENT, &[&booking.to_string()])?
            .json(body);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/bookings/{id}/payment`.
    pub async fn booking_payment(&self, booking: Uuid) -> Result<BookingPayment, ApiError> {
        let request = self.request(endpoints::BOOKING_PAYMENT, &[&booking.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/bookings/{id}/counter-payment` (staff: cash or transfer at the counter).
    pub async fn counter_payment(
        &self,
        booking: Uuid,
        body: &CounterPaymentRequest,
    ) -> Result<BookingPayment, ApiError> {
        let request = self
            .request(endpoints::COUNTER_PAYMENT, &[&booking.to_string()])?
            .json(body);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/bookings/{id}/counter-return` (staff: a counter deposit given back after
    /// the booking ended without a bill).
    pub async fn counter_return(&self, booking: Uuid) -> Result<BookingPayment, ApiError> {
        let request = self.request(endpoints::COUNTER_RETURN, &[&booking.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/bookings/{id}/charges`.
    pub async fn charges(&self, booking: Uuid) -> Result<Charges, ApiError> {
        let request = self.request(endpoints::CHARGES, &[&booking.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/bookings/{id}/charges`: a damage line from the RETURN inspection.
    pub async fn add_damage(
        &self,
        booking: Uuid,
        body: &AddDamageRequest,
    ) -> Result<ChargeLine, ApiError> {
        let request = self
            .request(endpoints::ADD_DAMAGE, &[&booking.to_string()])?
            .json(body);
        self.json(request, &[StatusCode::CREATED]).await
    }

    /// `DELETE /api/v1/bookings/{id}/charges/{line}`.
    pub async fn remove_damage(&self, booking: Uuid, line: Uuid) -> Result<(), ApiError> {
        let request = self.request(
            endpoints::REMOVE_DAMAGE,
            &[&booking.to_string(), &line.to_string()],
        )?;
        self.empty(request).await
    }

    /// `POST /api/v1/bookings/{id}/charges/confirm` with the total staff saw.
    pub async fn confirm_charges(
        &self,
        booking: Uuid,
        total: Money,
    ) -> Result<Settlement, ApiError> {
        let request = self
            .request(endpoints::CONFIRM_CHARGES, &[&booking.to_string()])?
            .json(&ConfirmChargesRequest { total });
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/bookings/{id}/invoice`: the PDF.
    pub async fn invoice_pdf(&self, booking: Uuid) -> Result<Vec<u8>, ApiError> {
        let request = self.request(endpoints::INVOICE, &[&booking.to_string()])?;
        let (_, pdf) = self.bytes(request).await?;
        Ok(pdf)
    }

    /// `POST /api/v1/payments/webhooks/midtrans` (what Midtrans sends).
    pub async fn midtrans_webhook(&self, body: &serde_json::Value) -> Result<(), ApiError> {
        let request = self.request(endpoints::MIDTRANS_WEBHOOK, &[])?.json(body);
        let _: serde_json::Value = self.json(request, &[StatusCode::OK]).await?;
        Ok(())
    }

    /// `POST /api/v1/payments/webhooks/xendit` (what Xendit sends).
    pub async fn xendit_webhook(
        &self,
        callback_token: &str,
        body: &serde_json::Value,
    ) -> Result<(), ApiError> {
        let request = self
            .request(endpoints::XENDIT_WEBHOOK, &[])?
            .header("x-callback-token", callback_token)
            .json(body);
        let _: serde_json::Value = self.json(request, &[StatusCode::OK]).await?;
        Ok(())
    }

    /// `GET /api/v1/payments/report` (HQ).
    pub async fn payments_report(&self) -> Result<PaymentsReport, ApiError> {
        let request = self.request(endpoints::PAYMENTS_REPORT, &[])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/payments/reconcile` (HQ): compare with the providers now.
    pub async fn reconcile_payments(&self) -> Result<Reconciliation, ApiError> {
        let request = self.request(endpoints::RECONCILE_PAYMENTS, &[])?;
        self.json(request, &[StatusCode::OK]).await
    }
}
