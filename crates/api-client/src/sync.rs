//! The sync API: registering a branch desktop, revoking it, and pulling the branch's changes.

use reqwest::StatusCode;
use sentra_domain::Uuid;
use sentra_protocol::{
    Device, DeviceList, DeviceQuery, DeviceRegistration, PushRequest, PushResponse,
    RegisterDeviceRequest, SyncPage, SyncPullQuery,
};

use crate::{ApiClient, ApiError, endpoints};

/// The header a device sends its token in.
pub const DEVICE_HEADER: &str = "X-Sentra-Device";

impl ApiClient {
    /// `POST /api/v1/sync/devices`: the token in the answer is shown only this once.
    pub async fn register_device(
        &self,
        body: &RegisterDeviceRequest,
    ) -> Result<DeviceRegistration, ApiError> {
        let request = self.request(endpoints::REGISTER_DEVICE, &[])?.json(body);
        self.json(request, &[StatusCode::CREATED]).await
    }

    /// `GET /api/v1/sync/devices`.
    pub async fn devices(&self, query: &DeviceQuery) -> Result<DeviceList, ApiError> {
        let request = self.request(endpoints::DEVICES, &[])?.query(query);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/sync/devices/{id}/revoke` (HQ).
    pub async fn revoke_device(&self, id: Uuid) -> Result<Device, ApiError> {
        let request = self.request(endpoints::REVOKE_DEVICE, &[&id.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/sync/pull` as the device holding `device_token`: one page of the branch feed.
    pub async fn sync_pull(
        &self,
        device_token: &str,
        query: &SyncPullQuery,
    ) -> Result<SyncPage, ApiError> {
        let request = self
            .request(endpoints::SYNC_PULL, &[])?
            .header(DEVICE_HEADER, device_token)
            .query(query);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/sync/push` as the device holding `device_token`: one result per operation.
    pub async fn sync_push(
        &self,
        device_token: &str,
        body: &PushRequest,
    ) -> Result<PushResponse, ApiError> {
        let request = self
            .request(endpoints::SYNC_PUSH, &[])?
            .header(DEVICE_HEADER, device_token)
            .json(body);
        self.json(request, &[StatusCode::OK]).await
    }
}
