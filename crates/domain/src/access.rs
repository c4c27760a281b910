//! Who acts: the two kinds of account and the roles that decide what an account may do.

crate::stored_enum! {
    /// The kind of account behind a login.
    pub enum SubjectKind as "subject kind" {
        /// Branch or HQ staff.
        Staff = "staff",
        /// A renter using the web or mobile app.
        Customer = "customer",
    }
}

crate::stored_enum! {
    /// What an account may do. Customers have the customer role; staff one of the others.
    pub enum Role as "role" {
        Customer = "customer",
        /// Inspects vehicles at handover in their branches.
        Inspector = "inspector",
        /// Runs their branches: fleet, bookings, counter.
        BranchAdmin = "branch_admin",
        /// Head office: every branch.
        HqAdmin = "hq_admin",
        /// Reviews identity verifications (at HQ or for a region) and is the one role that opens
        /// any customer's KTP photo and selfie (UU PDP data minimisation).
        KycReviewer = "kyc_reviewer",
    }
}
