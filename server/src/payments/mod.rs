//! Deposit holds at the payment gateways (Midtrans, Xendit) and at the counter (issue 13, under
//! way). So far: how a gateway's webhook proves it came from the gateway ([`webhook_auth`]); the
//! hold's lifecycle and ledger rules live in `sentra_domain::payment`.

pub mod webhook_auth;
