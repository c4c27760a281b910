//! Server tests against real Postgres and Redis: one binary, one module per area.

mod config;
mod demo;
mod health;
mod partitions;
mod support;
