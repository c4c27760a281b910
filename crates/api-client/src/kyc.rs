//! Identity verification: consent, KTP submission, staff review, documents and their access log.

use reqwest::StatusCode;
use sentra_domain::{IdentityDocument, Uuid};
use sentra_protocol::{
    AccessLog, Consent, ConsentText, ConsentWithdrawal, GiveConsentRequest, KycCase, KycCaseList,
    KycDecisionRequest, SubmitKycRequest,
};

use crate::{ApiClient, ApiError, endpoints};

/// A decrypted identity document image (every fetch is logged by the server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KycDocument {
    /// `image/jpeg` or `image/png`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

impl ApiClient {
    /// `GET /api/v1/kyc/consent`: the text a customer accepts before uploading.
    pub async fn kyc_consent_text(&self) -> Result<ConsentText, ApiError> {
        let request = self.request(endpoints::KYC_CONSENT_TEXT, &[])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/customers/me/consents`.
    pub async fn give_consent(&self, body: &GiveConsentRequest) -> Result<Consent, ApiError> {
        let request = self.request(endpoints::GIVE_CONSENT, &[])?.json(body);
        self.json(request, &[StatusCode::CREATED]).await
    }

    /// `DELETE /api/v1/customers/me/consents/kyc`: pending reviews close, photos are deleted.
    pub async fn withdraw_kyc_consent(&self) -> Result<ConsentWithdrawal, ApiError> {
        let request = self.request(endpoints::WITHDRAW_KYC_CONSENT, &[])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/customers/me/kyc`: the KTP and selfie.
    pub async fn submit_kyc(&self, body: &SubmitKycRequest) -> Result<KycCase, ApiError> {
        let request = self.request(endpoints::SUBMIT_KYC, &[])?.json(body);
        self.json(request, &[StatusCode::CREATED]).await
    }

    /// `GET /api/v1/customers/me/kyc`: the customer's latest case.
    pub async fn my_kyc(&self) -> Result<KycCase, ApiError> {
        let request = self.request(endpoints::MY_KYC, &[])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `POST /api/v1/customers/me/kyc/review`: a person should review my rejected verification.
    pub async fn ask_for_kyc_review(
        &self,
        body: &sentra_protocol::HumanReviewRequest,
    ) -> Result<KycCase, ApiError> {
        let request = self.request(endpoints::ASK_FOR_KYC_REVIEW, &[])?.json(body);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/kyc/reviews`: cases waiting for a reviewer.
    pub async fn kyc_reviews(&self) -> Result<KycCaseList, ApiError> {
        let request = self.request(endpoints::KYC_REVIEWS, &[])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/kyc/cases/{id}`.
    pub async fn kyc_case(&self, id: Uuid) -> Result<KycCase, ApiError> {
        let request = self.request(endpoints::KYC_CASE, &[&id.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/kyc/cases/{id}/documents/{kind}`.
    pub async fn kyc_document(
        &self,
        id: Uuid,
        document: IdentityDocument,
    ) -> Result<KycDocument, ApiError> {
        let request = self.request(
            endpoints::KYC_DOCUMENT,
            &[&id.to_string(), document.as_str()],
        )?;
        let (content_type, bytes) = self.bytes(request).await?;
        Ok(KycDocument {
            content_type,
            bytes,
        })
    }

    /// `POST /api/v1/kyc/cases/{id}/decision`.
    pub async fn decide_kyc(
        &self,
        id: Uuid,
        body: &KycDecisionRequest,
    ) -> Result<KycCase, ApiError> {
        let request = self
            .request(endpoints::KYC_DECISION, &[&id.to_string()])?
            .json(body);
        self.json(request, &[StatusCode::OK]).await
    }

    /// `GET /api/v1/kyc/cases/{id}/access-log`.
    pub async fn kyc_access_log(&self, id: Uuid) -> Result<AccessLog, ApiError> {
        let request = self.request(endpoints::KYC_ACCESS_LOG, &[&id.to_string()])?;
        self.json(request, &[StatusCode::OK]).await
    }
}
