//! Handovers: pickup, return and completion of a rental, inspection records and their
//! verification, photo and signature uploads, and a branch's overdue rentals.

use reqwest::StatusCode;
use sentra_domain::Uuid;
use sentra_protocol::{
    Booking, Handover, Inspection, InspectionInput, OverdueList, PickupRequest, PresignRequest,
    PresignedUpload, RentalDocumentInfo, ReturnRequest, Upload, UploadPurpose, Verification,
};

use crate::{ApiClient, ApiError, endpoints};

impl ApiClient {
    /// `POST /api/v1/bookings/{id}/pickup`: CONFIRMED → ACTIVE with the PICKUP record.
    pub async fn pick_up(&self, id: Uuid, body: &PickupRequest) -> Result<Handover, ApiError> {
        let request = self
            .request(endpoints::PICKUP, &[&id.to_string()])?
            .json(body);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/bookings/{id}/return`: ACTIVE → RETURNED with the RETURN record.
    pub async fn take_back(&self, id: Uuid, body: &ReturnRequest) -> Result<Handover, ApiError> {
        let request = self
            .request(endpoints::RETURN, &[&id.to_string()])?
            .json(body);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/bookings/{id}/complete`: RETURNED → COMPLETED.
    pub async fn complete_rental(&self, id: Uuid) -> Result<Booking, ApiError> {
        let request = self.request(endpoints::COMPLETE_RENTAL, &[&id.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/inspections`: a DELIVERY or TRANSFER record, or a correction.
    pub async fn record_inspection(&self, body: &InspectionInput) -> Result<Inspection, ApiError> {
        let request = self.request(endpoints::RECORD_INSPECTION, &[])?.json(body);
        self.json(request, &[StatusCode::CREATED]).await
    }

    /// `GET /api/v1/inspections/{id}`.
    pub async fn inspection(&self, id: Uuid) -> Result<Inspection, ApiError> {
        let request = self.request(endpoints::INSPECTION, &[&id.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/inspections/{id}/verify`.
    pub async fn verify_inspection(&self, id: Uuid) -> Result<Verification, ApiError> {
        let request = self.request(endpoints::VERIFY_INSPECTION, &[&id.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /v/{hash}`: the public verify page (HTML).
    pub async fn verify_page(&self, hash: &str) -> Result<String, ApiError> {
        let request = self.request(endpoints::VERIFY_PAGE, &[hash])?;
        let (_, html) = self.bytes(request).await?;
        Ok(String::from_utf8_lossy(&html).into_owned())
    }

    /// `POST /api/v1/uploads`: one image for `branch` (a branch code), as `multipart/form-data`.
    pub async fn upload(
        &self,
        branch: &str,
        purpose: UploadPurpose,
        image: &[u8],
    ) -> Result<Upload, ApiError> {
        let boundary = format!("sentra-{}", Uuid::new_v4().simple());
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"image\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(image);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let purpose = match purpose {
            UploadPurpose::Photo => "PHOTO",
            UploadPurpose::Signature => "SIGNATURE",
        };
        let request = self
            .request(endpoints::UPLOAD, &[])?
            .query(&[("branch", branch), ("purpose", purpose)])
            .header(
                reqwest::header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body);
        self.json(request, &[StatusCode::CREATED]).await
    }

    /// `POST /api/v1/uploads/presign`: a URL to put a photo straight into S3.
    pub async fn presign_upload(
        &self,
        branch: &str,
        body: &PresignRequest,
    ) -> Result<PresignedUpload, ApiError> {
        let request = self
            .request(endpoints::PRESIGN_UPLOAD, &[])?
            .query(&[("branch", branch)])
            .json(body);
        self.json(request, &[StatusCode::CREATED]).await
    }

    /// `POST /api/v1/uploads/{id}/complete`: check a presigned upload and complete it.
    pub async fn complete_upload(&self, id: Uuid) -> Result<Upload, ApiError> {
        let request = self.request(endpoints::COMPLETE_UPLOAD, &[&id.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/branches/{code}/overdue`.
    pub async fn overdue(&self, branch: &str) -> Result<OverdueList, ApiError> {
        let request = self.request(endpoints::OVERDUE, &[branch])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/bookings/{id}/documents/{kind}`: the booking's `surat-jalan` or
    /// `agreement` (made the first time, the same one after).
    pub async fn rental_document(
        &self,
        id: Uuid,
        kind: &str,
    ) -> Result<RentalDocumentInfo, ApiError> {
        let request = self.request(endpoints::RENTAL_DOCUMENT, &[&id.to_string(), kind])?;
        self.json(request, &[StatusCode::CREATED, StatusCode::OK])
            .await
    }

    /// `GET /api/v1/documents/{id}/pdf`.
    pub async fn document_pdf(&self, id: Uuid) -> Result<Vec<u8>, ApiError> {
        let request = self.request(endpoints::DOCUMENT_PDF, &[&id.to_string()])?;
        let (_, pdf) = self.bytes(request).await?;
        Ok(pdf)
    }
}
