//! Idempotency keys in Postgres: a key is stored only together with the response it decided, in
//! the same transaction as the decision (for a booking, the transaction that inserts it). So
//! there is no "in progress" state to get stuck: a request that crashes, times out or fails
//! transiently stored nothing, and its retry gets a fresh decision; a request that committed
//! stored its response, and its retry gets exactly that back.
//!
//! Two requests with the same key at once may both work on it; the first to commit wins, the
//! other's transaction fails on the key's primary key, rolls back whatever it did, and answers
//! with the winner's stored response. The HTTP side (`http/idempotency.rs`) reads the header and
//! renders responses.

use serde_json::Value;
use sqlx::{PgExecutor, PgPool};

/// A request's claim on an idempotency key: who sent it (scope), the key, and the hash of the
/// body, so a key reused for another body is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Per caller and action, e.g. `bookings.create:<caller id>`.
    pub scope: String,
    /// The client's key (1–255 characters).
    pub key: String,
    /// SHA-256 of the canonical request body.
    pub request_hash: Vec<u8>,
}

/// A response stored for a key.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// JSON body.
    pub body: Value,
}

/// What is stored for a claim's key.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// Nothing yet: the request may run.
    New,
    /// Decided before, for this same body: replay it.
    Replay(StoredResponse),
    /// The key was used for a different body.
    Mismatch,
}

/// What is stored for the claim's key.
pub async fn lookup(db: &PgPool, claim: &Claim) -> sqlx::Result<Lookup> {
    let row: Option<(Vec<u8>, i32, Value)> = sqlx::query_as(
        "SELECT request_hash, response_status, response_body FROM idempotency_keys \
         WHERE scope = $1 AND key = $2",
    )
    .bind(&claim.scope)
    .bind(&claim.key)
    .fetch_optional(db)
    .await?;
    Ok(match row {
        None => Lookup::New,
        Some((hash, _, _)) if hash != claim.request_hash => Lookup::Mismatch,
        Some((_, status, body)) => Lookup::Replay(StoredResponse {
            status: u16::try_from(status).unwrap_or(500),
            body,
        }),
    })
}

/// Stores the decided response for the claim's key, in the caller's transaction when given one.
/// Returns false when the key already has a response (another request decided first); inside a
/// transaction the caller must then roll back what it did.
pub async fn record<'e>(
    executor: impl PgExecutor<'e>,
    claim: &Claim,
    status: u16,
    body: &Value,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (scope, key, request_hash, response_status, response_body) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(&claim.scope)
    .bind(&claim.key)
    .bind(&claim.request_hash)
    .bind(i32::from(status))
    .bind(body)
    .execute(executor)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// A device's pushed operation, claimed inside the transaction that carries it out: once that
/// commits, the operation is never run again, even if its answer was never stored or sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceOp {
    /// Operation ids are scoped by branch, so a re-registered device's outbox stays done.
    pub branch_id: uuid::Uuid,
    pub op_id: uuid::Uuid,
    pub device_id: uuid::Uuid,
    /// The action's name (`confirm_booking`, …).
    pub kind: &'static str,
    /// SHA-256 of the canonical action, so an id reused for another action is refused.
    pub request_hash: Vec<u8>,
}

/// Claims `op` in the caller's transaction. False: the operation was claimed before (by an
/// earlier push, or a copy racing this one that committed first); the caller rolls back.
pub async fn claim_device_op<'e>(
    executor: impl PgExecutor<'e>,
    op: &DeviceOp,
) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO sync_operations (branch_id, op_id, device_id, kind, request_hash) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(op.branch_id)
    .bind(op.op_id)
    .bind(op.device_id)
    .bind(op.kind)
    .bind(&op.request_hash)
    .execute(executor)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}
