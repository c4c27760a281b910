//! The booking engine's endpoints: search, free units, the month calendar, bookings and the
//! waitlist.

use reqwest::StatusCode;
use sentra_domain::Uuid;
use sentra_protocol::{
    Availability, Booking, BookingList, BookingListQuery, CalendarQuery, ConfirmBookingRequest,
    CreateBookingRequest, FreeUnitPage, JoinWaitlistRequest, SearchQuery, SkuCalendar, UnitsQuery,
    WaitlistEntry, WaitlistQueue, WaitlistQueueQuery,
};

use crate::{ApiClient, ApiError, endpoints};

/// The answer to joining a waitlist.
#[derive(Debug, Clone, PartialEq)]
pub struct JoinedWaitlist {
    pub entry: WaitlistEntry,
    /// False when the same request had joined already (the open entry is returned).
    pub created: bool,
}

impl ApiClient {
    /// `GET /api/v1/availability`: free units per branch and the price (public).
    pub async fn search(&self, query: &SearchQuery) -> Result<Availability, ApiError> {
        let request = self.request(endpoints::SEARCH, &[])?.query(query);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/availability/units`: one page of free units (staff).
    pub async fn free_units(&self, query: &UnitsQuery) -> Result<FreeUnitPage, ApiError> {
        let request = self.request(endpoints::FREE_UNITS, &[])?.query(query);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/skus/{code}/calendar`: per day, how many units are free.
    pub async fn sku_calendar(
        &self,
        sku: &str,
        query: &CalendarQuery,
    ) -> Result<SkuCalendar, ApiError> {
        let request = self.request(endpoints::SKU_CALENDAR, &[sku])?.query(query);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/bookings`. `idempotency_key` makes a retry return the first answer; use a
    /// fresh one per booking the user means to make.
    pub async fn create_booking(
        &self,
        idempotency_key: &str,
        body: &CreateBookingRequest,
    ) -> Result<Booking, ApiError> {
        let request = self
            .request(endpoints::CREATE_BOOKING, &[])?
            .header("Idempotency-Key", idempotency_key)
            .json(body);
        self.json(request, &[StatusCode::CREATED]).await
    }

    /// `GET /api/v1/bookings/{id}`.
    pub async fn booking(&self, id: Uuid) -> Result<Booking, ApiError> {
        let request = self.request(endpoints::BOOKING, &[&id.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/bookings`: one branch's bookings, newest first.
    pub async fn bookings(&self, query: &BookingListQuery) -> Result<BookingList, ApiError> {
        let request = self.request(endpoints::BOOKINGS, &[])?.query(query);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/bookings/{id}/cancel`.
    pub async fn cancel_booking(&self, id: Uuid) -> Result<Booking, ApiError> {
        let request = self.request(endpoints::CANCEL_BOOKING, &[&id.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/bookings/{id}/confirm` with the booking's hold token.
    pub async fn confirm_booking(
        &self,
        id: Uuid,
        body: &ConfirmBookingRequest,
    ) -> Result<Booking, ApiError> {
        let request = self
            .request(endpoints::CONFIRM_BOOKING, &[&id.to_string()])?
            .json(body);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/waitlist`.
    pub async fn join_waitlist(
        &self,
        body: &JoinWaitlistRequest,
    ) -> Result<JoinedWaitlist, ApiError> {
        let request = self.request(endpoints::JOIN_WAITLIST, &[])?.json(body);
        let (status, entry) = self
            .json_with_status(request, &[StatusCode::CREATED, StatusCode::OK])
            .await?;
        Ok(JoinedWaitlist {
            entry,
            created: status == StatusCode::CREATED,
        })
    }

    /// `GET /api/v1/skus/{code}/waitlist`: the SKU's open queue (staff who run it).
    pub async fn sku_waitlist(
        &self,
        sku: &str,
        query: &WaitlistQueueQuery,
    ) -> Result<WaitlistQueue, ApiError> {
        let request = self.request(endpoints::SKU_WAITLIST, &[sku])?.query(query);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/waitlist/{id}`.
    pub async fn waitlist_entry(&self, id: Uuid) -> Result<WaitlistEntry, ApiError> {
        let request = self.request(endpoints::WAITLIST_ENTRY, &[&id.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `DELETE /api/v1/waitlist/{id}`: leave the queue (an offer held for you is released).
    pub async fn leave_waitlist(&self, id: Uuid) -> Result<WaitlistEntry, ApiError> {
        let request = self.request(endpoints::LEAVE_WAITLIST, &[&id.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }
}
