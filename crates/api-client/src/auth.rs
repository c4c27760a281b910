//! Logins, token refresh, logout, password change and "who am I".

use reqwest::StatusCode;
use sentra_protocol::{
    ChangePasswordRequest, CustomerLoginRequest, Me, RefreshRequest, StaffLoginRequest,
    TokenResponse,
};

use crate::{ApiClient, ApiError, endpoints};

impl ApiClient {
    /// `POST /api/v1/auth/staff/login`.
    pub async fn staff_login(&self, body: &StaffLoginRequest) -> Result<TokenResponse, ApiError> {
        let request = self.request(endpoints::STAFF_LOGIN, &[])?.json(body);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/auth/customer/login` (by e-mail or phone).
    pub async fn customer_login(
        &self,
        body: &CustomerLoginRequest,
    ) -> Result<TokenResponse, ApiError> {
        let request = self.request(endpoints::CUSTOMER_LOGIN, &[])?.json(body);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/auth/refresh`: a new pair for a refresh token (each works once).
    pub async fn refresh(&self, body: &RefreshRequest) -> Result<TokenResponse, ApiError> {
        let request = self.request(endpoints::REFRESH, &[])?.json(body);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/auth/logout`: ends the refresh token's session.
    pub async fn logout(&self, body: &RefreshRequest) -> Result<(), ApiError> {
        let request = self.request(endpoints::LOGOUT, &[])?.json(body);
        self.empty(request).await
    }

    /// `POST /api/v1/auth/password`: every session of the caller ends.
    pub async fn change_password(&self, body: &ChangePasswordRequest) -> Result<(), ApiError> {
        let request = self.request(endpoints::CHANGE_PASSWORD, &[])?.json(body);
        self.empty(request).await
    }

    /// `GET /api/v1/auth/me`.
    pub async fn me(&self) -> Result<Me, ApiError> {
        let request = self.request(endpoints::ME, &[])?;
        self.json(request, &[StatusCode::OK]).await
    }
}
