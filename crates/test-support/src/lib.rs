//! The real-services harness: starts Postgres and Redis from the binaries on `PATH` (or Debian's
//! PostgreSQL directory) on free loopback ports in temporary directories, waits until they answer,
//! and stops and deletes them afterwards — on drop, at process exit, and (through the kernel's
//! parent-death signal) even when the test process is killed.
//!
//! Tests share one Postgres server and one Redis node per test binary, isolated from each other by
//! a database per test (cloned from a migrated template) and a key prefix per test. Tests that
//! break a service on purpose (FLUSHALL, killing a node) start their own with
//! [`RedisServer::start`] / [`RedisCluster::start`].

mod process;
pub mod postgres;
pub mod redis;

pub use postgres::{PgOptions, PgServer, TestDatabase};
pub use process::{free_port, spawn_tied, KillOnDrop};
pub use redis::{unique_key_prefix, RedisCluster, RedisServer};
