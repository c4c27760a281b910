//! Devices: a branch admin registers a counter PC for their branch and gets its token once; the
//! token (its SHA-256 is stored) then authenticates every sync call of that PC, next to the staff
//! member's own login; HQ revokes a lost or stolen PC.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use sentra_protocol::{Device, FieldError, RegisterDeviceRequest};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Sync, SyncError};
use crate::{auth::Principal, inventory::catalogue};

/// A device whose token checked out, acting for the staff member logged in on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthenticatedDevice {
    pub id: Uuid,
    /// The branch whose data it holds.
    pub branch_id: Uuid,
}

#[derive(sqlx::FromRow)]
struct DeviceRow {
    id: Uuid,
    branch_id: Uuid,
    branch_code: String,
    name: String,
    registered_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    last_seen_at: Option<DateTime<Utc>>,
}

impl From<DeviceRow> for Device {
    fn from(row: DeviceRow) -> Self {
        Device {
            id: row.id,
            branch_id: row.branch_id,
            branch_code: row.branch_code,
            name: row.name,
            registered_at: row.registered_at,
            revoked_at: row.revoked_at,
            last_seen_at: row.last_seen_at,
        }
    }
}

const DEVICE_COLUMNS: &str = "d.id, d.branch_id, b.code AS branch_code, d.name, d.registered_at, \
    d.revoked_at, d.last_seen_at FROM sync_devices d JOIN branches b ON b.id = d.branch_id";

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl Sync {
    /// Registers a device for a branch the caller runs; returns it with its token (shown once).
    #[tracing::instrument(name = "sync.register_device", skip_all)]
    pub async fn register_device(
        &self,
        principal: &Principal,
        request: &RegisterDeviceRequest,
    ) -> Result<(Device, String), SyncError> {
        let mut errors = Vec::new();
        let name = &crate::text::checked(
            "name",
            sentra_domain::TextRule::line(80),
            &request.name,
            &mut errors,
        );
        let branch = catalogue::branch_id(&self.db, request.branch.trim()).await?;
        if branch.is_none() {
            errors.push(FieldError::new("branch", "no branch with this code"));
        }
        let (Some(branch), true) = (branch, errors.is_empty()) else {
            return Err(SyncError::Invalid(errors));
        };
        if !principal.can_access_branch(branch) {
            return Err(SyncError::Forbidden);
        }
        // 256 random bits: unguessable, and only its hash is stored.
        let token = format!(
            "srd_{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
        );
        let id = Uuid::now_v7();
        sqlx::query(
            "INSERT INTO sync_devices (id, branch_id, name, token_hash, registered_by) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(branch)
        .bind(name)
        .bind(token_hash(&token))
        .bind(principal.id)
        .execute(&self.db)
        .await?;
        tracing::info!(device = %id, %branch, "sync device registered");
        Ok((self.device(id).await?, token))
    }

    /// One device.
    async fn device(&self, id: Uuid) -> Result<Device, SyncError> {
        let row: Option<DeviceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DEVICE_COLUMNS} WHERE d.id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.db)
        .await?;
        row.map(Device::from).ok_or(SyncError::NotFound("Device"))
    }

    /// The devices of `branch` (a code), or of every branch the caller works at.
    #[tracing::instrument(name = "sync.devices", skip_all)]
    pub async fn devices(
        &self,
        principal: &Principal,
        branch: Option<&str>,
    ) -> Result<Vec<Device>, SyncError> {
        let only = match branch {
            Some(code) => Some(catalogue::branch_id(&self.db, code).await?.ok_or_else(|| {
                SyncError::Invalid(vec![FieldError::new("branch", "no branch with this code")])
            })?),
            None => None,
        };
        if only.is_some_and(|b| !principal.can_access_branch(b)) {
            return Err(SyncError::Forbidden);
        }
        let rows: Vec<DeviceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DEVICE_COLUMNS} WHERE ($1::uuid IS NULL OR d.branch_id = $1) ORDER BY b.code, d.registered_at"
        )))
        .bind(only)
        .fetch_all(&self.db)
        .await?;
        Ok(rows
            .into_iter()
            .filter(|r| principal.can_access_branch(r.branch_id))
            .map(Device::from)
            .collect())
    }

    /// Revokes a device (HQ): its token is refused from now on. Revoking twice is harmless.
    #[tracing::instrument(name = "sync.revoke_device", skip_all, fields(device = %id))]
    pub async fn revoke_device(&self, id: Uuid) -> Result<Device, SyncError> {
        sqlx::query(
            "UPDATE sync_devices SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1",
        )
        .bind(id)
        .execute(&self.db)
        .await?;
        let device = self.device(id).await?;
        tracing::info!(device = %id, "sync device revoked");
        Ok(device)
    }

    /// Checks a device token sent by `principal`: a registered, unrevoked device of a branch the
    /// caller works at.
    pub async fn authenticate(
        &self,
        principal: &Principal,
        token: Option<&str>,
    ) -> Result<AuthenticatedDevice, SyncError> {
        let token = token.ok_or(SyncError::DeviceNotRegistered)?;
        let row: Option<(Uuid, Uuid, bool)> = sqlx::query_as(
            "SELECT id, branch_id, revoked_at IS NOT NULL FROM sync_devices WHERE token_hash = $1",
        )
        .bind(token_hash(token))
        .fetch_optional(&self.db)
        .await?;
        let Some((id, branch_id, revoked)) = row else {
            return Err(SyncError::DeviceNotRegistered);
        };
        if revoked {
            return Err(SyncError::DeviceRevoked);
        }
        if !principal.can_access_branch(branch_id) {
            return Err(SyncError::DeviceNotRegistered);
        }
        // Seen: at most one write a minute per device.
        sqlx::query(
            "UPDATE sync_devices SET last_seen_at = now() WHERE id = $1 \
             AND (last_seen_at IS NULL OR last_seen_at < now() - interval '1 minute')",
        )
        .bind(id)
        .execute(&self.db)
        .await?;
        tracing::Span::current().record("device", tracing::field::display(id));
        Ok(AuthenticatedDevice { id, branch_id })
    }
}
