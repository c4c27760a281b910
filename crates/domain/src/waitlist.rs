//! The waitlist: customers queued for a SKU's dates when every unit is taken.

crate::stored_enum! {
    /// Where a waitlist entry stands.
    pub enum WaitlistStatus as "waitlist status" {
        /// In the queue.
        Waiting = "WAITING",
        /// A booking is held for the customer: they pay before it lapses.
        Offered = "OFFERED",
        /// The offered booking was paid.
        Fulfilled = "FULFILLED",
        /// The customer left the queue.
        Left = "LEFT",
        /// An offer lapsed unpaid.
        Expired = "EXPIRED",
    }
}

impl WaitlistStatus {
    /// Whether the entry is still in play (waiting or offered).
    pub const fn is_open(self) -> bool {
        matches!(self, WaitlistStatus::Waiting | WaitlistStatus::Offered)
    }
}
