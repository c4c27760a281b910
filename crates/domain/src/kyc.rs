//! Identity verification (KYC) states: a case's status and provider, the customer's summary
//! status, and who did what to an identity document.

crate::stored_enum! {
    /// Where one verification case stands.
    pub enum KycCaseStatus as "KYC case status" {
        /// The automatic checks were inconclusive: a reviewer decides.
        PendingReview = "pending_review",
        Verified = "verified",
        Rejected = "rejected",
    }
}

impl KycCaseStatus {
    /// Whether the case is decided (verified or rejected).
    pub const fn is_decided(self) -> bool {
        !matches!(self, KycCaseStatus::PendingReview)
    }

    /// What the customer's profile says while this is their latest case.
    pub const fn customer_status(self) -> CustomerKycStatus {
        match self {
            KycCaseStatus::PendingReview => CustomerKycStatus::Pending,
            KycCaseStatus::Verified => CustomerKycStatus::Verified,
            KycCaseStatus::Rejected => CustomerKycStatus::Rejected,
        }
    }
}

crate::stored_enum! {
    /// Why a verification was rejected: a stable code the apps translate.
    pub enum KycRejectReason as "KYC reject reason" {
        /// The birth date or gender printed on the KTP does not agree with its NIK (altered card).
        KtpInconsistentWithNik = "ktp_inconsistent_with_nik",
        /// The government database did not confirm the NIK, name and birth date together.
        IdentityNotConfirmed = "identity_not_confirmed",
        /// The selfie is not a live person.
        LivenessFailed = "liveness_failed",
        /// The selfie is not the person on the KTP.
        FaceMismatch = "face_mismatch",
        /// Staff rejected it (their words are stored next to this code).
        RejectedByStaff = "rejected_by_staff",
        /// The customer withdrew their consent while the case waited for review.
        ConsentWithdrawn = "consent_withdrawn",
        /// Nobody reviewed it within the review window: the photos were deleted unreviewed.
        ReviewWindowLapsed = "review_window_lapsed",
    }
}

crate::stored_enum! {
    /// A customer's identity status, as shown on their profile.
    pub enum CustomerKycStatus as "customer KYC status" {
        /// Never submitted a KTP.
        Unverified = "unverified",
        /// A case awaits review.
        Pending = "pending",
        Verified = "verified",
        Rejected = "rejected",
    }
}

crate::stored_enum! {
    /// Who checked the identity.
    pub enum KycProvider as "KYC provider" {
        /// A staff reviewer only.
        Manual = "manual",
        /// Verihubs (Dukcapil data and face match).
        Verihubs = "verihubs",
    }
}

crate::stored_enum! {
    /// An identity document image.
    pub enum IdentityDocument as "identity document" {
        Ktp = "ktp",
        Selfie = "selfie",
    }
}

crate::stored_enum! {
    /// What was done to an identity document.
    pub enum DocumentAction as "document action" {
        Upload = "upload",
        View = "view",
        Purge = "purge",
    }
}

crate::stored_enum! {
    /// Who did it: a customer, a staff member, or the server itself (retention purges).
    pub enum ActorKind as "actor kind" {
        Customer = "customer",
        Staff = "staff",
        System = "system",
    }
}
