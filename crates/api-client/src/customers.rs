//! Customer accounts: registration and the customer's own profile and bookings.

use reqwest::StatusCode;
use sentra_protocol::{
    AccountErased, BookingList, CustomerExport, CustomerProfile, EraseAccountRequest, ExportQuery,
    RegisterCustomerRequest, UpdateProfileRequest,
};

use crate::{ApiClient, ApiError, endpoints};

impl ApiClient {
    /// `POST /api/v1/customers`.
    pub async fn register_customer(
        &self,
        body: &RegisterCustomerRequest,
    ) -> Result<CustomerProfile, ApiError> {
        let request = self.request(endpoints::REGISTER_CUSTOMER, &[])?.json(body);
        self.json(request, &[StatusCode::CREATED]).await
    }

    /// `GET /api/v1/customers/me`.
    pub async fn my_profile(&self) -> Result<CustomerProfile, ApiError> {
        let request = self.request(endpoints::MY_PROFILE, &[])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `PATCH /api/v1/customers/me`.
    pub async fn update_my_profile(
        &self,
        body: &UpdateProfileRequest,
    ) -> Result<CustomerProfile, ApiError> {
        let request = self.request(endpoints::UPDATE_MY_PROFILE, &[])?.json(body);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `DELETE /api/v1/customers/me`: erases the caller's account.
    pub async fn erase_my_account(
        &self,
        body: &EraseAccountRequest,
    ) -> Result<AccountErased, ApiError> {
        let request = self.request(endpoints::ERASE_MY_ACCOUNT, &[])?.json(body);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `DELETE /api/v1/customers/{id}`: HQ erases a customer on their request.
    pub async fn erase_customer(&self, id: sentra_domain::Uuid) -> Result<AccountErased, ApiError> {
        let request = self.request(endpoints::ERASE_CUSTOMER, &[&id.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/customers/me/export`: everything held about the caller.
    pub async fn my_data_export(&self, query: &ExportQuery) -> Result<CustomerExport, ApiError> {
        let request = self.request(endpoints::MY_DATA_EXPORT, &[])?.query(query);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/customers/me/bookings` (with each booking's QR code).
    pub async fn my_bookings(&self) -> Result<BookingList, ApiError> {
        let request = self.request(endpoints::MY_BOOKINGS, &[])?;
        self.json(request, &[StatusCode::OK]).await
    }
}
