//! Branches, SKUs, assets, transfers between branches, QR labels and scans.

use reqwest::StatusCode;
use sentra_domain::Uuid;
use sentra_protocol::{
    Asset, AssetList, AssetQuery, Branch, BranchList, CreateAssetRequest, CreateBranchRequest,
    CreateSkuRequest, LabelPayload, ScanRequest, ScanResult, Sku, SkuList, TransferNote,
    TransferRequest, UpdateAssetRequest, UpdateSkuRequest,
};

use crate::{ApiClient, ApiError, endpoints};

impl ApiClient {
    /// `GET /api/v1/branches` (public).
    pub async fn branches(&self) -> Result<BranchList, ApiError> {
        let request = self.request(endpoints::BRANCHES, &[])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/branches` (HQ).
    pub async fn create_branch(&self, body: &CreateBranchRequest) -> Result<Branch, ApiError> {
        let request = self.request(endpoints::CREATE_BRANCH, &[])?.json(body);
        self.json(request, &[StatusCode::CREATED]).await
    }

    /// `GET /api/v1/skus` (public).
    pub async fn skus(&self) -> Result<SkuList, ApiError> {
        let request = self.request(endpoints::SKUS, &[])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/skus` (HQ).
    pub async fn create_sku(&self, body: &CreateSkuRequest) -> Result<Sku, ApiError> {
        let request = self.request(endpoints::CREATE_SKU, &[])?.json(body);
        self.json(request, &[StatusCode::CREATED]).await
    }

    /// `PATCH /api/v1/skus/{code}` (HQ).
    pub async fn update_sku(&self, code: &str, body: &UpdateSkuRequest) -> Result<Sku, ApiError> {
        let request = self.request(endpoints::UPDATE_SKU, &[code])?.json(body);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/assets`: the fleet of the caller's branches.
    pub async fn assets(&self, query: &AssetQuery) -> Result<AssetList, ApiError> {
        let request = self.request(endpoints::ASSETS, &[])?.query(query);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/assets`.
    pub async fn create_asset(&self, body: &CreateAssetRequest) -> Result<Asset, ApiError> {
        let request = self.request(endpoints::CREATE_ASSET, &[])?.json(body);
        self.json(request, &[StatusCode::CREATED]).await
    }

    /// `GET /api/v1/assets/{id}`.
    pub async fn asset(&self, id: Uuid) -> Result<Asset, ApiError> {
        let request = self.request(endpoints::ASSET, &[&id.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `PATCH /api/v1/assets/{id}`: status and odometer.
    pub async fn update_asset(
        &self,
        id: Uuid,
        body: &UpdateAssetRequest,
    ) -> Result<Asset, ApiError> {
        let request = self
            .request(endpoints::UPDATE_ASSET, &[&id.to_string()])?
            .json(body);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/assets/{id}/transfer`: moves the asset to another branch.
    pub async fn transfer_asset(
        &self,
        id: Uuid,
        body: &TransferRequest,
    ) -> Result<TransferNote, ApiError> {
        let request = self
            .request(endpoints::TRANSFER_ASSET, &[&id.to_string()])?
            .json(body);
        self.json(request, &[StatusCode::CREATED]).await
    }

    /// `GET /api/v1/transfers/{id}`.
    pub async fn transfer(&self, id: Uuid) -> Result<TransferNote, ApiError> {
        let request = self.request(endpoints::TRANSFER, &[&id.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/assets/{id}/label`: the QR payload of the current label.
    pub async fn label(&self, id: Uuid) -> Result<LabelPayload, ApiError> {
        let request = self.request(endpoints::LABEL, &[&id.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/assets/{id}/label.pdf`: the printable label.
    pub async fn label_pdf(&self, id: Uuid) -> Result<Vec<u8>, ApiError> {
        let request = self.request(endpoints::LABEL_PDF, &[&id.to_string()])?;
        let (_, pdf) = self.bytes(request).await?;
        Ok(pdf)
    }

    /// `POST /api/v1/assets/{id}/label/reissue`: older labels stop scanning.
    pub async fn reissue_label(&self, id: Uuid) -> Result<LabelPayload, ApiError> {
        let request = self.request(endpoints::REISSUE_LABEL, &[&id.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/scans`: what a scanned QR code names.
    pub async fn scan(&self, body: &ScanRequest) -> Result<ScanResult, ApiError> {
        let request = self.request(endpoints::SCAN, &[])?.json(body);
        self.json(request, &[StatusCode::OK]).await
    }
}
