//! Changes staff make at the counter, offline first: each is written to the copy and queued for
//! the server in one transaction, and the ones the server did not take (conflicts, rejections)
//! wait here until staff decide.

use uuid::Uuid;

use super::Counter;
use crate::{
    CoreError,
    store::{Resolution, Unsettled},
};

impl Counter {
    /// Records an odometer reading (shown at once, queued for the server).
    pub async fn record_odometer(&self, asset: Uuid, km: i32) -> Result<(), CoreError> {
        let mut guard = self.copy.lock().await;
        let copy = guard
            .as_mut()
            .ok_or_else(|| CoreError::new("no_branch", "log in to a branch first"))?;
        copy.writer.record_odometer(asset, km).map(|_| ())
    }

    /// The conflicts and rejections waiting for staff, oldest first.
    pub fn unsettled(&self) -> Result<Vec<Unsettled>, CoreError> {
        self.with_reader(|_, store| store.unsettled())
            .map(|(_, items)| items)
    }

    /// Settles one as staff chose (a change sent again waits in the outbox for the next round).
    pub async fn resolve_unsettled(
        &self,
        op_id: Uuid,
        resolution: Resolution,
    ) -> Result<(), CoreError> {
        let mut guard = self.copy.lock().await;
        let copy = guard
            .as_mut()
            .ok_or_else(|| CoreError::new("no_branch", "log in to a branch first"))?;
        copy.writer.resolve(op_id, resolution).map(|_| ())
    }
}
