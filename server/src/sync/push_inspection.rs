//! Inspections pushed by desktops (`record_inspection`): a PICKUP or RETURN goes through the same
//! handover as online, judged at the time the inspection was taken on the device; other kinds are
//! recorded. The inspection's own id makes it idempotent: sent again (a retry, a duplicate batch,
//! out of order) it is stored once and answered with the stored record. A booking whose state did
//! not allow it is a conflict, answered with the booking as it is; content the server refuses is a
//! rejection.

use sentra_domain::InspectionKind;
use sentra_protocol::{
    ErrorCode, InspectionInput, PickupRequest, PushOutcome, PushResult, ReturnRequest,
};
use uuid::Uuid;

use super::{AuthenticatedDevice, Sync, SyncError, push::result};
use crate::{
    auth::Principal,
    booking::repo,
    handover::{HandoverError, Taken},
};

impl Sync {
    /// Carries out one pushed inspection for `device`'s branch.
    pub(super) async fn record_inspection(
        &self,
        device: AuthenticatedDevice,
        principal: &Principal,
        op_id: Uuid,
        input: &InspectionInput,
        early_reason: Option<&str>,
    ) -> Result<PushResult, SyncError> {
        // Only records of the device's branch: another branch's booking is "not found".
        if let Some(booking) = input.booking_id {
            let of_branch = repo::get(&self.db, booking)
                .await?
                .is_some_and(|b| b.branch_id == device.branch_id);
            if !of_branch {
                return Ok(refused(
                    op_id,
                    PushOutcome::Rejected,
                    ErrorCode::NotFound,
                    "No such booking at this branch",
                ));
            }
        }
        let done = match (input.kind, input.booking_id) {
            (InspectionKind::Pickup, Some(booking)) if input.corrects.is_none() => {
                let request = PickupRequest {
                    inspection: input.clone(),
                    early_reason: early_reason.map(str::to_owned),
                };
                self.handovers
                    .pick_up(principal, booking, &request, Taken::OnDevice)
                    .await
                    .map(|h| (Some(h.booking), h.inspection))
            }
            (InspectionKind::Return, Some(booking)) if input.corrects.is_none() => {
                let request = ReturnRequest {
                    inspection: input.clone(),
                };
                self.handovers
                    .take_back(principal, booking, &request, Taken::OnDevice)
                    .await
                    .map(|h| (Some(h.booking), h.inspection))
            }
            _ => self
                .handovers
                .record(principal, input, Taken::OnDevice)
                .await
                .map(|stored| (None, stored)),
        };
        let mut answer = match done {
            Ok((booking, stored)) => {
                let mut answer = result(op_id, PushOutcome::Applied, None, None);
                answer.booking = booking.map(|b| b.to_dto());
                answer.inspection = Some(stored.to_dto());
                answer
            }
            Err(HandoverError::Database(e)) => return Err(SyncError::Database(e)),
            Err(HandoverError::Storage(e)) => return Err(SyncError::Internal(e)),
            Err(e) => {
                let (outcome, code) = classify(&e);
                refused(op_id, outcome, code, &e.to_string())
            }
        };
        if answer.booking.is_none()
            && let Some(booking) = input.booking_id
        {
            answer.booking = repo::get(&self.db, booking).await?.map(|b| b.to_dto());
        }
        Ok(answer)
    }

    /// The answer for an inspection applied before whose answer was lost.
    pub(super) async fn inspection_now(
        &self,
        op_id: Uuid,
        id: Uuid,
    ) -> Result<PushResult, SyncError> {
        let mut answer = result(op_id, PushOutcome::Applied, None, None);
        let stored = crate::handover::records::get(&self.db, id)
            .await
            .map_err(|e| SyncError::Internal(anyhow::anyhow!(e.to_string())))?;
        if let Some(stored) = stored {
            if let Some(booking) = stored.record.booking_id {
                answer.booking = repo::get(&self.db, booking).await?.map(|b| b.to_dto());
            }
            answer.inspection = Some(stored.to_dto());
        }
        Ok(answer)
    }
}

fn refused(op_id: Uuid, outcome: PushOutcome, code: ErrorCode, message: &str) -> PushResult {
    result(op_id, outcome, Some(code), Some(message.to_owned()))
}

/// A conflict is about the booking's state (staff decide); a rejection about the content.
fn classify(e: &HandoverError) -> (PushOutcome, ErrorCode) {
    match e {
        HandoverError::InvalidState { .. } | HandoverError::NoHandover => {
            (PushOutcome::Conflict, ErrorCode::InvalidState)
        }
        HandoverError::Pickup(_) => (PushOutcome::Conflict, ErrorCode::PickupNotAllowed),
        HandoverError::InMaintenance => (PushOutcome::Conflict, ErrorCode::AssetInMaintenance),
        HandoverError::NotFreeEarly => (PushOutcome::Conflict, ErrorCode::BookingConflict),
        HandoverError::NotFound(_) => (PushOutcome::Rejected, ErrorCode::NotFound),
        HandoverError::IdReused => (PushOutcome::Rejected, ErrorCode::RecordIdReused),
        HandoverError::Upload(_) => (PushOutcome::Rejected, ErrorCode::UploadIncomplete),
        _ => (PushOutcome::Rejected, ErrorCode::ValidationFailed),
    }
}
