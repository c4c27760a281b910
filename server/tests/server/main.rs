//! Server tests against real Postgres and Redis: one binary, one module per area.

mod auth;
mod authz;
mod client;
mod booking {
    mod api;
    mod by_sku;
    mod calendar;
    mod crash;
    mod expiry;
    mod faults;
    mod projection;
    mod redlock;
    mod search;
    mod storm;
    mod waitlist_faults;
    mod waitlist_queue;
}
mod config;
mod customers;
mod demo;
mod fixtures;
mod handover {
    mod documents;
    mod lifecycle;
    mod maintenance;
    mod offline;
    mod records;
    mod s3;
    pub(crate) mod support;
}
mod hardening;
mod health;
mod inventory;
mod logged;
mod kyc {
    pub(crate) mod fake_verihubs;
    pub(crate) mod flow;
    mod logs;
    mod reverify;
    pub(crate) mod review;
    mod rights;
}
mod notify {
    mod cascade;
    pub(crate) mod fake_whatsapp;
    mod outage;
    mod processor;
    mod quiet;
    pub(crate) mod support;
}
mod partitions;
mod payments {
    mod counter;
    pub(crate) mod fake_midtrans;
    pub(crate) mod fake_xendit;
    mod faults;
    mod logs;
    mod long;
    pub(crate) mod midtrans;
    mod reports;
    pub(crate) mod support;
    mod webhooks;
}
mod schemathesis;
mod sessions;
mod support;
pub(crate) mod sync {
    mod counter;
    pub(crate) mod desk;
    mod desktop;
    mod first_copy;
    mod pull;
    mod push;
    mod scan;
    mod session;
}
mod traces;
