//! Pushed operations: what staff did on a device while it was offline (or just now), applied in
//! the order sent.
//!
//! **Once only, whatever happens.** Each operation is claimed under `(branch, op_id)` *inside*
//! the transaction that carries it out (`idempotency::claim_device_op`), so once it commits it
//! is never run again: not by a retry after the answer was lost (timeout, crash, dropped
//! connection), not by a copy racing it (which waits on the claim and then finds it taken), not
//! by the same outbox sent again from a re-registered device. Its answer is stored after the
//! commit; a replay answers it (`replayed: true`), or, when the answer never got stored, the
//! record as it is now with `applied`. An id reused for a different action is refused
//! (`op_id_reused`).
//!
//! **Conflicts.** The server decides booking states: a confirm or cancel that the booking's
//! state no longer allows is a conflict, answered with the booking as it is. An asset change
//! made on top of a status or odometer that changed meanwhile (checked under the asset's row
//! lock) is a `stale_record` conflict, answered with the asset as it is. The device shows both
//! to the user, who decides. Conflicts and rejections are stored as answers too: sent again,
//! they answer the same.

use sentra_protocol::{
    ErrorCode, FieldError, PushAction, PushOperation, PushOutcome, PushResult, UpdateAssetRequest,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{AuthenticatedDevice, Sync, SyncError};
use crate::{
    auth::{Principal, Role},
    booking::{BookingError, repo},
    idempotency::DeviceOp,
    inventory::{
        InventoryError,
        assets::{self, DeviceGuard},
    },
};

/// Operations per push at most.
pub const MAX_OPERATIONS: usize = 100;

pub(super) fn result(
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
        inspection: None,
        replayed: false,
    }
}

/// What is stored for an operation id.
enum Stored {
    New,
    /// Claimed for another action.
    Reused,
    /// Answered before.
    Answered(Box<PushResult>),
    /// Carried out, but its answer was never stored.
    AppliedUnanswered,
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
            return Err(SyncError::Invalid(vec![FieldError::new(
                "operations",
                "at most 100 a push",
            )]));
        }
        // The same roles as online: confirming, cancelling and changing assets are the branch
        // admins' (and HQ's). An inspector's device pulls but does not change these; the refusal
        // is not stored, so the outbox pushed later by an admin on the same PC still goes in.
        let admin = matches!(principal.role, Role::BranchAdmin | Role::HqAdmin);
        let mut results = Vec::with_capacity(operations.len());
        for operation in operations {
            // Any staff member records inspections (the inspector's job).
            let allowed = admin || matches!(operation.action, PushAction::RecordInspection { .. });
            if !allowed {
                results.push(result(
                    operation.op_id,
                    PushOutcome::Rejected,
                    Some(ErrorCode::Forbidden),
                    Some(format!(
                        "Your role may not {}",
                        operation.action.kind().replace('_', " ")
                    )),
                ));
                continue;
            }
            let op = DeviceOp {
                branch_id: device.branch_id,
                op_id: operation.op_id,
                device_id: device.id,
                kind: operation.action.kind(),
                request_hash: Sha256::digest(
                    serde_json::to_vec(&operation.action).unwrap_or_default(),
                )
                .to_vec(),
            };
            results.push(self.once(device, principal, operation, &op).await?);
        }
        Ok(results)
    }

    /// One operation, carried out at most once.
    async fn once(
        &self,
        device: AuthenticatedDevice,
        principal: &Principal,
        operation: &PushOperation,
        op: &DeviceOp,
    ) -> Result<PushResult, SyncError> {
        // A copy that claimed or answered it first while this one ran is answered from its row
        // on the next round.
        for _ in 0..3 {
            match self.stored(op).await? {
                Stored::Answered(mut first) => {
                    first.replayed = true;
                    return Ok(*first);
                }
                Stored::Reused => {
                    let mut refused = result(
                        op.op_id,
                        PushOutcome::Rejected,
                        None,
                        Some("This operation id was used for another action".to_owned()),
                    );
                    refused.code = Some("op_id_reused".to_owned());
                    return Ok(refused);
                }
                Stored::AppliedUnanswered => {
                    // Carried out already; the push that did it stores its answer (if it is
                    // still running), so this one only tells what the record is now.
                    let mut answer = self.applied_now(device, operation).await?;
                    answer.replayed = true;
                    return Ok(answer);
                }
                Stored::New => {}
            }
            if let Some(answer) = self.apply(device, principal, operation, op).await?
                && self.store(op, &answer).await?
            {
                return Ok(answer);
            }
        }
        Err(SyncError::NotFound("Operation"))
    }

    async fn stored(&self, op: &DeviceOp) -> Result<Stored, SyncError> {
        let row: Option<(Vec<u8>, Option<sqlx::types::Json<PushResult>>)> = sqlx::query_as(
            "SELECT request_hash, result FROM sync_operations WHERE branch_id = $1 AND op_id = $2",
        )
        .bind(op.branch_id)
        .bind(op.op_id)
        .fetch_optional(&self.db)
        .await?;
        Ok(match row {
            None => Stored::New,
            Some((hash, _)) if hash != op.request_hash => Stored::Reused,
            Some((_, Some(result))) => Stored::Answered(Box::new(result.0)),
            Some((_, None)) => Stored::AppliedUnanswered,
        })
    }

    /// Stores the answer: on the operation's own claim (applied), or as a new row (a conflict or
    /// rejection, or an applied confirm that found the booking confirmed already). False: a copy
    /// of the operation stored its answer first.
    async fn store(&self, op: &DeviceOp, answer: &PushResult) -> Result<bool, SyncError> {
        let stored = sqlx::query(
            "INSERT INTO sync_operations (branch_id, op_id, device_id, kind, request_hash, result) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (branch_id, op_id) DO UPDATE SET result = excluded.result \
             WHERE sync_operations.result IS NULL AND excluded.result->>'outcome' = 'applied' \
               AND sync_operations.request_hash = excluded.request_hash",
        )
        .bind(op.branch_id)
        .bind(op.op_id)
        .bind(op.device_id)
        .bind(op.kind)
        .bind(&op.request_hash)
        .bind(sqlx::types::Json(answer))
        .execute(&self.db)
        .await?
        .rows_affected();
        Ok(stored == 1)
    }

    /// The record an applied operation changed, as it is now (its answer was lost).
    async fn applied_now(
        &self,
        device: AuthenticatedDevice,
        operation: &PushOperation,
    ) -> Result<PushResult, SyncError> {
        let mut answer = result(operation.op_id, PushOutcome::Applied, None, None);
        match &operation.action {
            PushAction::ConfirmBooking { booking_id, .. }
            | PushAction::CancelBooking { booking_id } => {
                answer.booking = repo::get(&self.db, *booking_id)
                    .await?
                    .map(|row| row.to_dto());
            }
            PushAction::UpdateAsset { asset_id, .. } => {
                answer.asset = assets::of_branch_by_id(&self.db, device.branch_id, &[*asset_id])
                    .await?
                    .pop();
            }
            PushAction::RecordInspection { inspection, .. } => {
                return self.inspection_now(operation.op_id, inspection.id).await;
            }
        }
        Ok(answer)
    }

    /// Carries the operation out; `None` when a copy of it claimed it first.
    async fn apply(
        &self,
        device: AuthenticatedDevice,
        principal: &Principal,
        operation: &PushOperation,
        op: &DeviceOp,
    ) -> Result<Option<PushResult>, SyncError> {
        let op_id = operation.op_id;
        match &operation.action {
            PushAction::ConfirmBooking {
                booking_id,
                hold_token,
            } => {
                if !self.booking_of_branch(device, *booking_id).await? {
                    return Ok(Some(rejected_not_found(op_id)));
                }
                let done = self
                    .bookings
                    .confirm_claimed(*booking_id, *hold_token, Some(op))
                    .await;
                self.booking_result(op_id, *booking_id, done).await
            }
            PushAction::CancelBooking { booking_id } => {
                if !self.booking_of_branch(device, *booking_id).await? {
                    return Ok(Some(rejected_not_found(op_id)));
                }
                let done = self.bookings.cancel_claimed(*booking_id, Some(op)).await;
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
                let guard = DeviceGuard {
                    claim: op,
                    seen: (*seen_status, *seen_odometer_km),
                };
                self.update_asset(device, principal, op_id, *asset_id, &request, guard)
                    .await
            }
            PushAction::RecordInspection {
                inspection,
                early_reason,
            } => self
                .record_inspection(
                    device,
                    principal,
                    op_id,
                    inspection,
                    early_reason.as_deref(),
                )
                .await
                .map(Some),
        }
    }

    /// An asset change on top of what the device saw.
    async fn update_asset(
        &self,
        device: AuthenticatedDevice,
        principal: &Principal,
        op_id: Uuid,
        asset_id: Uuid,
        request: &UpdateAssetRequest,
        guard: DeviceGuard<'_>,
    ) -> Result<Option<PushResult>, SyncError> {
        let current = assets::of_branch_by_id(&self.db, device.branch_id, &[asset_id])
            .await?
            .pop();
        let Some(current) = current else {
            return Ok(Some(rejected_not_found(op_id)));
        };
        let done =
            assets::update_guarded(&self.db, principal, asset_id, request, Some(guard)).await;
        let (outcome, code, message) = match done {
            Ok(asset) => {
                let mut answer = result(op_id, PushOutcome::Applied, None, None);
                answer.asset = Some(asset);
                return Ok(Some(answer));
            }
            Err(InventoryError::DecidedElsewhere) => return Ok(None),
            Err(InventoryError::Database(e)) => return Err(SyncError::Database(e)),
            Err(InventoryError::Stale) => (
                PushOutcome::Conflict,
                ErrorCode::StaleRecord,
                "The asset changed since this device last synced".to_owned(),
            ),
            Err(e @ (InventoryError::Conflict(_) | InventoryError::AssetInUse(_))) => {
                (PushOutcome::Conflict, ErrorCode::Conflict, e.to_string())
            }
            Err(e @ InventoryError::NotFound(_)) => {
                (PushOutcome::Rejected, ErrorCode::NotFound, e.to_string())
            }
            Err(e @ InventoryError::Forbidden(_)) => {
                (PushOutcome::Rejected, ErrorCode::Forbidden, e.to_string())
            }
            Err(e) => (
                PushOutcome::Rejected,
                ErrorCode::ValidationFailed,
                e.to_string(),
            ),
        };
        let mut answer = result(op_id, outcome, Some(code), Some(message));
        // The asset as it is now (it may have changed since it was read above).
        answer.asset = assets::of_branch_by_id(&self.db, device.branch_id, &[asset_id])
            .await?
            .pop()
            .or(Some(current));
        Ok(Some(answer))
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
    /// as it is; `None` when a copy of the operation claimed it first.
    async fn booking_result(
        &self,
        op_id: Uuid,
        booking: Uuid,
        done: Result<repo::BookingRow, BookingError>,
    ) -> Result<Option<PushResult>, SyncError> {
        let (mut answer, row) = match done {
            Ok(row) => (result(op_id, PushOutcome::Applied, None, None), Some(row)),
            Err(BookingError::DecidedElsewhere) => return Ok(None),
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
        Ok(Some(answer))
    }
}

fn rejected_not_found(op_id: Uuid) -> PushResult {
    result(
        op_id,
        PushOutcome::Rejected,
        Some(ErrorCode::NotFound),
        None,
    )
}
