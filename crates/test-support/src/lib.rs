//! The real-services harness: starts Postgres, Redis and an S3-compatible server (moto) from the binaries on `PATH` (or Debian's
//! PostgreSQL directory) on free loopback ports in temporary directories, waits until they answer,
//! and stops and deletes them afterwards — on drop, at process exit, and (through the kernel's
//! parent-death signal) even when the test process is killed.
//!
//! Tests share one Postgres server and one Redis node per test binary, isolated from each other by
//! a database per test (cloned from a migrated template) and a key prefix per test. Tests that
//! break a service on purpose (FLUSHALL, killing a node) start their own with
//! [`RedisServer::start`] / [`RedisCluster::start`].

pub mod cups;
pub mod pdf;
pub mod postgres;
mod process;
pub mod redis;
pub mod s3;
pub mod secret_service;
pub mod smtp;

pub use cups::CupsServer;
pub use postgres::{PgOptions, PgServer, TestDatabase};
pub use process::{KillOnDrop, free_port, spawn_tied};
pub use redis::{RedisCluster, RedisServer, unique_key_prefix};
pub use s3::S3Server;
pub use secret_service::SecretService;
pub use smtp::SmtpServer;
