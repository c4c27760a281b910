//! The handover records of the branch change feed: inspections (append-only), printed documents
//! and maintenance work orders, read for the first copy (records after an id) and for changes
//! (records by id). The first copy holds the records of the sync window.

use chrono::NaiveDate;
use sentra_protocol::{SyncChange, SyncEntity};
use uuid::Uuid;

use super::feed::tombstone;
use crate::handover::{BranchSelect as Select, documents, maintenance, records};

fn change(entity: SyncEntity, id: Uuid, fill: impl FnOnce(&mut SyncChange)) -> SyncChange {
    let mut change = tombstone(entity, id);
    change.deleted = false;
    fill(&mut change);
    change
}

/// Up to `limit` records of `entity` of `branch` after `after` (in id order), from `since` on.
pub(super) async fn after(
    db: &sqlx::PgPool,
    branch: Uuid,
    entity: SyncEntity,
    after: Uuid,
    since: NaiveDate,
    limit: i64,
) -> sqlx::Result<Vec<SyncChange>> {
    read(
        db,
        branch,
        entity,
        Select::After {
            after,
            since,
            limit,
        },
    )
    .await
}

/// The records of `entity` of `branch` with these ids (missing ones are left out).
pub(super) async fn by_id(
    db: &sqlx::PgPool,
    branch: Uuid,
    entity: SyncEntity,
    ids: &[Uuid],
) -> sqlx::Result<Vec<SyncChange>> {
    read(db, branch, entity, Select::Ids(ids)).await
}

async fn read(
    db: &sqlx::PgPool,
    branch: Uuid,
    entity: SyncEntity,
    select: Select<'_>,
) -> sqlx::Result<Vec<SyncChange>> {
    Ok(match entity {
        SyncEntity::Inspection => records::of_branch(db, branch, select)
            .await?
            .into_iter()
            .map(|r| change(entity, r.id, |c| c.inspection = Some(r.to_dto())))
            .collect(),
        SyncEntity::Document => documents::of_branch(db, branch, select)
            .await?
            .into_iter()
            .map(|d| change(entity, d.id, |c| c.document = Some(d)))
            .collect(),
        SyncEntity::WorkOrder => maintenance::of_branch(db, branch, select)
            .await?
            .into_iter()
            .map(|w| change(entity, w.id, |c| c.work_order = Some(w)))
            .collect(),
        SyncEntity::Sku | SyncEntity::Asset | SyncEntity::Booking => Vec::new(),
    })
}
