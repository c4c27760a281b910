//! Pushed operations: what staff did on a device while it was offline (or just now), applied in
//! the order sent.
//!
//! **Once only.** Each operation's result is stored under `(device, op_id)`; an operation seen
//! before is not run again, and its first result is answered (`replayed: true`). Every action is
//! also safe to run twice on its own (a second confirm, cancel or asset update finds the record
//! already changed), so two copies racing each other still change the record once, and the
//! result stored first is the one every copy answers from then on.
//!
//! **Conflicts.** The server decides booking states: a confirm or cancel that the booking's
//! state no longer allows is a conflict, answered with the booking as it is. An asset update made
//! on top of a status or odometer that changed meanwhile is a `stale_record` conflict, answered
//! with the asset as it is. The device shows both to the user, who decides.

use sentra_domain::AssetStatus;
use sentra_protocol::{
    Asset, ErrorCode, PushAction, PushOperation, PushOutcome, PushResult, UpdateAssetRequest,
};
use uuid::Uuid;

use super::{AuthenticatedDevice, Sync, SyncError};
use crate::{
    auth::{Principal, Role},
    booking::{BookingError, repo},
    inventory::{InventoryError, assets},
};

/// Operations per push at most.
pub const MAX_OPERATIONS: usize = 100;

fn result(
    op_id: Uuid,
    outcome: PushOutcome,
    code: Option<ErrorCode>,
    message: Option<String>,
) -> PushResult {
    PushResult {
        op_id,
        outcome,
        code: code.map(|c| c.as_str().to_owned()),
        message,
        booking: None,
        asset: None,
        replayed: false,
    }
}

impl Sync {
    /// Applies `operations` in order for `device`, acting as `principal`.
    #[tracing::instrument(name = "sync.push", skip_all, fields(device = %device.id, operations = operations.len()))]
    pub async fn push(
        &self,
        device: AuthenticatedDevice,
        principal: &Principal,
        operations: &[PushOperation],
    ) -> Result<Vec<PushResult>, SyncError> {
        if operations.len() > MAX_OPERATIONS {
            return Err(SyncError::Invalid(vec![sentra_protocol::FieldError::new(
                "operations",
                "at most 100 a push",
            )]));
        }
        let mut results = Vec::with_capacity(operations.len());
        for operation in operations {
            if let Some(mut stored) = self.stored(device, operation.op_id).await? {
                stored.replayed = true;
                results.push(stored);
                continue;
            }
            let outcome = self.apply(device, principal, operation).await?;
            results.push(self.record(device, operation, outcome).await?);
        }
        Ok(results)
    }

    async fn stored(
        &self,
        device: AuthenticatedDevice,
        op_id: Uuid,
    ) -> Result<Option<PushResult>, SyncError> {
        let stored: Option<sqlx::types::Json<PushResult>> = sqlx::query_scalar(
            "SELECT result FROM sync_operations WHERE device_id = $1 AND op_id = $2",
        )
        .bind(device.id)
        .bind(op_id)
        .fetch_optional(&self.db)
        .await?;
        Ok(stored.map(|json| json.0))
    }

    /// Stores the result unless a copy of the operation stored one first; answers the one stored.
    async fn record(
        &self,
        device: AuthenticatedDevice,
        operation: &PushOperation,
        result: PushResult,
    ) -> Result<PushResult, SyncError> {
        let inserted = sqlx::query(
            "INSERT INTO sync_operations (device_id, op_id, kind, result) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (device_id, op_id) DO NOTHING",
        )
        .bind(device.id)
        .bind(operation.op_id)
        .bind(operation.action.kind())
        .bind(sqlx::types::Json(&result))
        .execute(&self.db)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(result);
        }
        let mut first = self
            .stored(device, operation.op_id)
            .await?
            .ok_or(SyncError::NotFound("Operation"))?;
        first.replayed = true;
        Ok(first)
    }

    async fn apply(
        &self,
        device: AuthenticatedDevice,
        principal: &Principal,
        operation: &PushOperation,
    ) -> Result<PushResult, SyncError> {
        let op_id = operation.op_id;
        // The same roles as online: confirming, cancelling and changing assets are the branch
        // admins' (and HQ's); an inspector's device pulls but does not change these.
        if !matches!(principal.role, Role::BranchAdmin | Role::HqAdmin) {
            return Ok(result(
                op_id,
                PushOutcome::Rejected,
                Some(ErrorCode::Forbidden),
                Some(format!(
                    "Your role may not {}",
                    operation.action.kind().replace('_', " ")
                )),
            ));
        }
        match &operation.action {
            PushAction::ConfirmBooking {
                booking_id,
                hold_token,
            } => {
                if !self.booking_of_branch(device, *booking_id).await? {
                    return Ok(result(
                        op_id,
                        PushOutcome::Rejected,
                        Some(ErrorCode::NotFound),
                        None,
                    ));
                }
                let done = self.bookings.confirm(*booking_id, *hold_token).await;
                self.booking_result(op_id, *booking_id, done).await
            }
            PushAction::CancelBooking { booking_id } => {
                if !self.booking_of_branch(device, *booking_id).await? {
                    return Ok(result(
                        op_id,
                        PushOutcome::Rejected,
                        Some(ErrorCode::NotFound),
                        None,
                    ));
                }
                let done = self.bookings.cancel(*booking_id).await;
                self.booking_result(op_id, *booking_id, done).await
            }
            PushAction::UpdateAsset {
                asset_id,
                seen_status,
                seen_odometer_km,
                status,
                odometer_km,
            } => {
                let request = UpdateAssetRequest {
                    status: status.clone(),
                    odometer_km: *odometer_km,
                };
                self.update_asset(
                    device,
                    principal,
                    op_id,
                    *asset_id,
                    (*seen_status, *seen_odometer_km),
                    &request,
                )
                .await
            }
        }
    }

    /// An asset change on top of what the device saw (`seen`: status and odometer).
    async fn update_asset(
        &self,
        device: AuthenticatedDevice,
        principal: &Principal,
        op_id: Uuid,
        asset_id: Uuid,
        seen: (AssetStatus, Option<i32>),
        request: &UpdateAssetRequest,
    ) -> Result<PushResult, SyncError> {
        let current = assets::of_branch_by_id(&self.db, device.branch_id, &[asset_id])
            .await?
            .pop();
        let Some(current) = current else {
            return Ok(result(
                op_id,
                PushOutcome::Rejected,
                Some(ErrorCode::NotFound),
                None,
            ));
        };
        if (current.status, current.odometer_km) != seen {
            return Ok(asset_result(
                result(
                    op_id,
                    PushOutcome::Conflict,
                    Some(ErrorCode::StaleRecord),
                    Some("The asset changed since this device last synced".to_owned()),
                ),
                current,
            ));
        }
        match assets::update(&self.db, principal, asset_id, request).await {
            Ok(asset) => Ok(asset_result(
                result(op_id, PushOutcome::Applied, None, None),
                asset,
            )),
            Err(InventoryError::Database(e)) => Err(SyncError::Database(e)),
            Err(e) => {
                let (outcome, code) = match &e {
                    InventoryError::Conflict(_) | InventoryError::AssetInUse(_) => {
                        (PushOutcome::Conflict, ErrorCode::Conflict)
                    }
                    InventoryError::NotFound(_) => (PushOutcome::Rejected, ErrorCode::NotFound),
                    InventoryError::Forbidden(_) => (PushOutcome::Rejected, ErrorCode::Forbidden),
                    _ => (PushOutcome::Rejected, ErrorCode::ValidationFailed),
                };
                Ok(asset_result(
                    result(op_id, outcome, Some(code), Some(e.to_string())),
                    current,
                ))
            }
        }
    }

    /// Whether the booking is one the device's branch holds.
    async fn booking_of_branch(
        &self,
        device: AuthenticatedDevice,
        booking: Uuid,
    ) -> Result<bool, SyncError> {
        Ok(repo::get(&self.db, booking)
            .await?
            .is_some_and(|b| b.branch_id == device.branch_id))
    }

    /// The result of a booking action: applied with the booking, or a conflict with the booking
    /// as it is.
    async fn booking_result(
        &self,
        op_id: Uuid,
        booking: Uuid,
        done: Result<repo::BookingRow, BookingError>,
    ) -> Result<PushResult, SyncError> {
        let (mut answer, row) = match done {
            Ok(row) => (result(op_id, PushOutcome::Applied, None, None), Some(row)),
            Err(BookingError::Database(e)) => return Err(SyncError::Database(e)),
            Err(e) => {
                let code = match &e {
                    BookingError::HoldExpired => ErrorCode::HoldExpired,
                    BookingError::NotFound => ErrorCode::NotFound,
                    _ => ErrorCode::InvalidState,
                };
                let outcome = if code == ErrorCode::NotFound {
                    PushOutcome::Rejected
                } else {
                    PushOutcome::Conflict
                };
                (
                    result(op_id, outcome, Some(code), Some(e.to_string())),
                    repo::get(&self.db, booking).await?,
                )
            }
        };
        answer.booking = row.as_ref().map(repo::BookingRow::to_dto);
        Ok(answer)
    }
}

fn asset_result(mut result: PushResult, asset: Asset) -> PushResult {
    result.asset = Some(asset);
    result
}
