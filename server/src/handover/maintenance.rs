//! Maintenance: service plans, work orders whose workshop days block the calendar through the
//! booking arbiter (a MAINTENANCE row of `bookings`, guarded by the same exclusion constraint), and
//! the services due per branch, projected from the handovers' odometer readings.
//!
//! A work order over days a confirmed booking holds is refused, unless the caller asks to move
//! those bookings: each then goes to another free unit of the same model at the branch, in the
//! same transaction, or nothing happens.

use chrono::{NaiveDate, Utc};
use sentra_domain::{
    BookingStatus, BranchTimeZone, TextRule,
    maintenance::{self, Interval, ServiceState},
};
use sentra_protocol::{
    CloseWorkOrderRequest, CreatePlanRequest, MaintenanceOverview, MaintenancePlan,
    OpenWorkOrderRequest, ReassignedBooking, ServiceDue, WorkOrder,
};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::{HandoverError, Handovers};
use crate::{
    auth::Principal,
    booking::{
        projection::AssetChange,
        repo::{HOLDING, StatusChange, lock_asset},
    },
};

/// Why a work order cannot be opened as asked.
#[derive(Debug, thiserror::Error)]
pub enum MaintenanceError {
    #[error("bookings hold the asset on these days: {0:?}")]
    Conflict(Vec<Uuid>),
    #[error("no other unit of the model is free for booking {0}")]
    NoFreeUnit(Uuid),
    #[error("the rental {0} is under way on these days; it cannot be moved")]
    RentalUnderWay(Uuid),
}

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: Uuid,
    asset_id: Uuid,
    branch_id: Uuid,
    plan_id: Option<Uuid>,
    block_booking_id: Uuid,
    status: String,
    start_date: NaiveDate,
    end_date: NaiveDate,
    odometer_km: Option<i32>,
    reason: String,
    reassigned: serde_json::Value,
    cost_idr: Option<i64>,
    notes: Option<String>,
    opened_at: chrono::DateTime<Utc>,
    closed_at: Option<chrono::DateTime<Utc>>,
}

impl OrderRow {
    fn to_dto(&self) -> WorkOrder {
        WorkOrder {
            id: self.id,
            asset_id: self.asset_id,
            branch_id: self.branch_id,
            plan_id: self.plan_id,
            block_booking_id: self.block_booking_id,
            status: self.status.clone(),
            start: self.start_date,
            end: self.end_date,
            odometer_km: self.odometer_km.and_then(|k| u32::try_from(k).ok()),
            reason: self.reason.clone(),
            reassigned: serde_json::from_value(self.reassigned.clone()).unwrap_or_default(),
            cost_idr: self.cost_idr,
            notes: self.notes.clone(),
            opened_at: self.opened_at,
            closed_at: self.closed_at,
        }
    }
}

const ORDER_COLUMNS: &str = "id, asset_id, branch_id, plan_id, block_booking_id, status, start_date, \
    end_date, odometer_km, reason, reassigned, cost_idr, notes, opened_at, closed_at";

/// Work orders of `branch` for the change feed (the first copy: open ones and those ending in
/// the window).
pub(crate) async fn of_branch(
    db: &sqlx::PgPool,
    branch: Uuid,
    select: super::BranchSelect<'_>,
) -> sqlx::Result<Vec<WorkOrder>> {
    let rows: Vec<OrderRow> = select
        .fetch(
            db,
            "work_orders",
            ORDER_COLUMNS,
            "status = 'OPEN' OR end_date >= $3",
            branch,
        )
        .await?;
    Ok(rows.iter().map(OrderRow::to_dto).collect())
}

/// The days and reason of a work order, checked.
fn check_order(request: &OpenWorkOrderRequest, today: NaiveDate) -> Result<(), HandoverError> {
    if request.end <= request.start || (request.end - request.start).num_days() > 60 {
        return Err(HandoverError::Invalid(
            "end: after start, at most 60 days".to_owned(),
        ));
    }
    crate::text::checked_one("reason", TextRule::line(500), &request.reason)
        .map_err(|e| HandoverError::Invalid(e.to_string()))?;
    if request.start < today {
        return Err(HandoverError::Invalid("start: today or later".to_owned()));
    }
    Ok(())
}

type PlanRow = (
    Uuid,
    Option<Uuid>,
    Option<Uuid>,
    String,
    Option<i32>,
    Option<i32>,
    i32,
);

fn plan_dto(row: &PlanRow) -> MaintenancePlan {
    let unsigned = |v: Option<i32>| v.and_then(|v| u32::try_from(v).ok());
    MaintenancePlan {
        id: row.0,
        sku_id: row.1,
        asset_id: row.2,
        name: row.3.clone(),
        every_days: unsigned(row.4),
        every_km: unsigned(row.5),
        duration_days: u32::try_from(row.6).unwrap_or(1),
    }
}

impl Handovers {
    /// Creates a service plan (HQ).
    pub async fn create_plan(
        &self,
        request: &CreatePlanRequest,
    ) -> Result<MaintenancePlan, HandoverError> {
        let mut problems = Vec::new();
        if TextRule::line(120).clean(&request.name).is_err() {
            problems.push("name: 1 to 120 characters, no control or invisible characters");
        }
        if request.every_days.is_none() && request.every_km.is_none() {
            problems.push("every_days or every_km: give at least one");
        }
        if request.every_days.is_some_and(|d| !(1..=3650).contains(&d)) {
            problems.push("every_days: 1 to 3650");
        }
        if request
            .every_km
            .is_some_and(|k| !(100..=1_000_000).contains(&k))
        {
            problems.push("every_km: 100 to 1,000,000");
        }
        if request
            .duration_days
            .is_some_and(|d| !(1..=30).contains(&d))
        {
            problems.push("duration_days: 1 to 30");
        }
        if request.sku.is_some() == request.asset_id.is_some() {
            problems.push("sku or asset_id: give exactly one");
        }
        if !problems.is_empty() {
            return Err(HandoverError::Invalid(problems.join("; ")));
        }
        let sku_id: Option<Uuid> = match &request.sku {
            Some(code) => Some(
                sqlx::query_scalar("SELECT id FROM skus WHERE code = $1")
                    .bind(code)
                    .fetch_optional(&self.db)
                    .await?
                    .ok_or_else(|| {
                        HandoverError::Invalid("sku: no SKU with this code".to_owned())
                    })?,
            ),
            None => None,
        };
        let to_i32 = |v: Option<u32>| v.map(|v| i32::try_from(v).unwrap_or(i32::MAX));
        let row: PlanRow = sqlx::query_as(
            "INSERT INTO maintenance_plans (id, sku_id, asset_id, name, every_days, every_km, duration_days) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             RETURNING id, sku_id, asset_id, name, every_days, every_km, duration_days",
        )
        .bind(Uuid::now_v7())
        .bind(sku_id)
        .bind(request.asset_id)
        .bind(request.name.trim())
        .bind(to_i32(request.every_days))
        .bind(to_i32(request.every_km))
        .bind(to_i32(request.duration_days).unwrap_or(1))
        .fetch_one(&self.db)
        .await
        .map_err(|e| {
            if crate::db::has_sqlstate(&e, &["23503"]) {
                HandoverError::Invalid("asset_id: no such asset".to_owned())
            } else {
                e.into()
            }
        })?;
        Ok(plan_dto(&row))
    }

    /// Every service plan.
    pub async fn plans(&self) -> Result<Vec<MaintenancePlan>, HandoverError> {
        let rows: Vec<PlanRow> = sqlx::query_as(
            "SELECT id, sku_id, asset_id, name, every_days, every_km, duration_days \
             FROM maintenance_plans ORDER BY created_at, id",
        )
        .fetch_all(&self.db)
        .await?;
        Ok(rows.iter().map(plan_dto).collect())
    }

    /// Opens a work order for `[start, end)` and blocks those days; see the module doc for the
    /// bookings already there. Moving bookings locks a second unit; two work orders moving
    /// bookings towards each other's units can deadlock in Postgres, which then undoes one of
    /// them: that one runs again (a few times at most).
    pub async fn open_work_order(
        &self,
        principal: &Principal,
        asset: Uuid,
        request: &OpenWorkOrderRequest,
    ) -> Result<WorkOrder, HandoverError> {
        let mut tries = 0;
        loop {
            tries += 1;
            match self.open_work_order_once(principal, asset, request).await {
                Err(HandoverError::Database(e))
                    if tries < 3 && crate::db::has_sqlstate(&e, &["40P01"]) =>
                {
                    tracing::info!(error = %e, "work order collided with another; trying again");
                }
                done => return done,
            }
        }
    }

    async fn open_work_order_once(
        &self,
        principal: &Principal,
        asset: Uuid,
        request: &OpenWorkOrderRequest,
    ) -> Result<WorkOrder, HandoverError> {
        let home: Option<(Uuid, String)> = sqlx::query_as(
            "SELECT a.home_branch_id, b.time_zone FROM assets a JOIN branches b ON b.id = a.home_branch_id \
             WHERE a.id = $1",
        )
        .bind(asset)
        .fetch_optional(&self.db)
        .await?;
        let Some((branch, zone)) = home.filter(|(b, _)| principal.can_access_branch(*b)) else {
            return Err(HandoverError::NotFound("Asset"));
        };
        let zone: BranchTimeZone = zone.parse().unwrap_or(BranchTimeZone::Wib);
        check_order(request, zone.local_date_of(Utc::now()))?;
        if let Some(plan) = request.plan_id {
            let applies: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM maintenance_plans p JOIN assets a ON a.id = $2 \
                 WHERE p.id = $1 AND (p.asset_id = a.id OR p.sku_id = a.sku_id))",
            )
            .bind(plan)
            .bind(asset)
            .fetch_one(&self.db)
            .await?;
            if !applies {
                return Err(HandoverError::Invalid(
                    "plan_id: no service plan of this unit or its model".to_owned(),
                ));
            }
        }
        let mut tx = self.db.begin().await?;
        let locked = lock_asset(&mut tx, asset, None)
            .await?
            .ok_or(HandoverError::NotFound("Asset"))?;
        let range = (request.start, request.end);
        let holding: Vec<(Uuid, String, String, NaiveDate, NaiveDate)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT id, kind, status, lower(occupied), upper(occupied) FROM bookings \
             WHERE asset_id = $1 AND status IN {HOLDING} AND occupied && daterange($2, $3, '[)') \
             ORDER BY lower(occupied) FOR UPDATE"
            )))
            .bind(asset)
            .bind(range.0)
            .bind(range.1)
            .fetch_all(&mut *tx)
            .await?;
        // Another work order's days are never moved: only rentals can go to another unit.
        let blocked_by_workshop = holding.iter().any(|h| h.1 != "RENTAL");
        if !holding.is_empty() && (!request.reassign || blocked_by_workshop) {
            return Err(MaintenanceError::Conflict(holding.iter().map(|h| h.0).collect()).into());
        }
        let mut changes = Vec::new();
        let mut moved = Vec::new();
        let mut freed = Vec::new();
        for (booking, _, status, from, to) in &holding {
            if status == "ACTIVE" {
                return Err(MaintenanceError::RentalUnderWay(*booking).into());
            }
            let (target, change) =
                Self::move_booking(&mut tx, asset, *booking, (*from, *to)).await?;
            changes.push(change);
            freed.push((*booking, (*from, *to)));
            moved.push(ReassignedBooking {
                booking_id: *booking,
                from_asset_id: asset,
                to_asset_id: target,
            });
        }
        let row = Self::insert_order(&mut tx, principal, asset, branch, request, &moved).await?;
        // The moved bookings' days outside the workshop's are free on this unit now.
        for (booking, days) in &freed {
            locked.enqueue_freed(&mut tx, *booking, *days).await?;
        }
        tx.commit().await?;
        let freed_days = freed.iter().map(|(_, days)| *days).collect();
        changes.push(locked.change(freed_days, Some(range)));
        self.bookings.projection().publish(&changes).await;
        tracing::info!(work_order = %row.id, asset = %asset, moved = moved.len(), "work order opened");
        Ok(row.to_dto())
    }

    /// The block in the calendar and the work order, inside the caller's transaction.
    async fn insert_order(
        tx: &mut Transaction<'_, Postgres>,
        principal: &Principal,
        asset: Uuid,
        branch: Uuid,
        request: &OpenWorkOrderRequest,
        moved: &[ReassignedBooking],
    ) -> Result<OrderRow, HandoverError> {
        let range = (request.start, request.end);
        let block = Uuid::now_v7();
        let inserted = sqlx::query(
            "INSERT INTO bookings (id, branch_id, asset_id, customer_id, kind, period, status) \
             VALUES ($1, $2, $3, NULL, 'MAINTENANCE', daterange($4, $5, '[)'), 'CONFIRMED')",
        )
        .bind(block)
        .bind(branch)
        .bind(asset)
        .bind(range.0)
        .bind(range.1)
        .execute(&mut **tx)
        .await;
        if let Err(e) = inserted {
            return Err(if crate::db::has_sqlstate(&e, &["23P01"]) {
                MaintenanceError::Conflict(Vec::new()).into()
            } else {
                e.into()
            });
        }
        let odometer: Option<i32> =
            sqlx::query_scalar("SELECT odometer_km FROM assets WHERE id = $1")
                .bind(asset)
                .fetch_one(&mut **tx)
                .await?;
        let row: OrderRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO work_orders (id, asset_id, branch_id, plan_id, block_booking_id, status, \
               start_date, end_date, odometer_km, reason, reassigned, opened_by) \
             VALUES ($1, $2, $3, $4, $5, 'OPEN', $6, $7, $8, $9, $10, $11) RETURNING {ORDER_COLUMNS}"
        )))
        .bind(Uuid::now_v7())
        .bind(asset)
        .bind(branch)
        .bind(request.plan_id)
        .bind(block)
        .bind(range.0)
        .bind(range.1)
        .bind(odometer)
        .bind(request.reason.trim())
        .bind(serde_json::to_value(moved).unwrap_or_default())
        .bind(principal.id)
        .fetch_one(&mut **tx)
        .await?;
        Ok(row)
    }

    /// Moves `booking` off `asset` to a free unit of the same model at the same branch.
    async fn move_booking(
        tx: &mut Transaction<'_, Postgres>,
        asset: Uuid,
        booking: Uuid,
        occupied: (NaiveDate, NaiveDate),
    ) -> Result<(Uuid, AssetChange), HandoverError> {
        let target: Option<Uuid> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT a.id FROM assets a JOIN assets me ON me.id = $1 \
             WHERE a.sku_id = me.sku_id AND a.home_branch_id = me.home_branch_id \
               AND a.status = 'active' AND a.id <> me.id \
               AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.asset_id = a.id \
                   AND b.status IN {HOLDING} AND b.occupied && daterange($2, $3, '[)')) \
             ORDER BY a.plate_or_serial LIMIT 1"
        )))
        .bind(asset)
        .bind(occupied.0)
        .bind(occupied.1)
        .fetch_optional(&mut **tx)
        .await?;
        let target = target.ok_or(MaintenanceError::NoFreeUnit(booking))?;
        let locked = lock_asset(tx, target, None)
            .await?
            .ok_or(MaintenanceError::NoFreeUnit(booking))?;
        let moved =
            sqlx::query("UPDATE bookings SET asset_id = $2, updated_at = now() WHERE id = $1")
                .bind(booking)
                .bind(target)
                .execute(&mut **tx)
                .await;
        match moved {
            Ok(_) => {}
            Err(e) if crate::db::has_sqlstate(&e, &["23P01"]) => {
                return Err(MaintenanceError::NoFreeUnit(booking).into());
            }
            Err(e) => return Err(e.into()),
        }
        Ok((target, locked.change(Vec::new(), Some(occupied))))
    }

    /// Closes a work order with its cost; workshop days not used any more free up.
    pub async fn close_work_order(
        &self,
        principal: &Principal,
        id: Uuid,
        request: &CloseWorkOrderRequest,
    ) -> Result<WorkOrder, HandoverError> {
        if request.cost_idr < 0 || TextRule::note(2000).clean(&request.notes).is_err() {
            return Err(HandoverError::Invalid(
                "cost_idr: 0 or more Rupiah; notes: at most 2000 characters".to_owned(),
            ));
        }
        let order: Option<(Uuid, Uuid, String)> = sqlx::query_as(
            "SELECT w.asset_id, w.branch_id, b.time_zone FROM work_orders w \
             JOIN branches b ON b.id = w.branch_id WHERE w.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.db)
        .await?;
        let Some((asset, _, zone)) = order.filter(|o| principal.can_access_branch(o.1)) else {
            return Err(HandoverError::NotFound("Work order"));
        };
        let zone: BranchTimeZone = zone.parse().unwrap_or(BranchTimeZone::Wib);
        let today = zone.local_date_of(Utc::now());
        let mut tx = self.db.begin().await?;
        let locked = lock_asset(&mut tx, asset, None)
            .await?
            .ok_or(HandoverError::NotFound("Work order"))?;
        let row: Option<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE work_orders SET status = 'CLOSED', cost_idr = $2, notes = $3, closed_by = $4, \
               closed_at = now() WHERE id = $1 AND status = 'OPEN' RETURNING {ORDER_COLUMNS}"
        )))
        .bind(id)
        .bind(request.cost_idr)
        .bind(Some(request.notes.trim()).filter(|n| !n.is_empty()))
        .bind(principal.id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(HandoverError::InvalidWorkOrder);
        };
        // The block ends with today (the asset is back): later days free up; closed before it
        // began, the whole block goes (a work order called off).
        let freed: Option<(NaiveDate, NaiveDate)> = if today < row.start_date {
            let cancel = StatusChange::new(&[BookingStatus::Confirmed], BookingStatus::Cancelled)?;
            sqlx::query_as(
                "UPDATE bookings SET status = $2, updated_at = now() \
                 WHERE id = $1 AND status = ANY($3) RETURNING lower(period), upper(period)",
            )
            .bind(row.block_booking_id)
            .bind(cancel.to)
            .bind(&cancel.from)
            .fetch_optional(&mut *tx)
            .await?
        } else {
            sqlx::query_as(
                "UPDATE bookings SET period = daterange(lower(period), $2::date + 1, '[)'), \
                   updated_at = now() \
                 WHERE id = $1 AND upper(period) > $2::date + 1 \
                 RETURNING upper(period), $3::date",
            )
            .bind(row.block_booking_id)
            .bind(today)
            .bind(row.end_date)
            .fetch_optional(&mut *tx)
            .await?
        };
        if let Some(days) = freed {
            locked
                .enqueue_freed(&mut tx, row.block_booking_id, days)
                .await?;
        }
        tx.commit().await?;
        self.bookings
            .projection()
            .publish(&[locked.change(freed.into_iter().collect(), None)])
            .await;
        Ok(row.to_dto())
    }

    /// The branch's services due soon or overdue, and its open work orders.
    pub async fn maintenance_overview(
        &self,
        branch: Uuid,
    ) -> Result<MaintenanceOverview, HandoverError> {
        type Candidate = (
            Uuid,
            String,
            chrono::DateTime<Utc>,
            String,
            Uuid,
            String,
            Option<i32>,
            Option<i32>,
        );
        let candidates: Vec<Candidate> = sqlx::query_as(
            "SELECT a.id, a.plate_or_serial, a.created_at, br.time_zone, p.id, p.name, p.every_days, p.every_km \
             FROM assets a JOIN branches br ON br.id = a.home_branch_id \
             JOIN maintenance_plans p ON p.asset_id = a.id OR p.sku_id = a.sku_id \
             WHERE a.home_branch_id = $1 AND a.status <> 'retired' ORDER BY a.plate_or_serial, p.name",
        )
        .bind(branch)
        .fetch_all(&self.db)
        .await?;
        let mut due = Vec::new();
        for (asset, plate, joined, zone, plan, plan_name, every_days, every_km) in candidates {
            let zone: BranchTimeZone = zone.parse().unwrap_or(BranchTimeZone::Wib);
            let today = zone.local_date_of(Utc::now());
            let last: Option<(chrono::DateTime<Utc>, Option<i32>)> = sqlx::query_as(
                "SELECT closed_at, odometer_km FROM work_orders \
                 WHERE asset_id = $1 AND plan_id = $2 AND status = 'CLOSED' ORDER BY closed_at DESC LIMIT 1",
            )
            .bind(asset)
            .bind(plan)
            .fetch_optional(&self.db)
            .await?;
            let readings: Vec<(chrono::DateTime<Utc>, i32)> = sqlx::query_as(
                "SELECT recorded_at, odometer_km FROM inspections \
                 WHERE asset_id = $1 AND recorded_at > now() - interval '180 days' ORDER BY recorded_at",
            )
            .bind(asset)
            .fetch_all(&self.db)
            .await?;
            let readings: Vec<(NaiveDate, u32)> = readings
                .into_iter()
                .map(|(at, km)| (zone.local_date_of(at), u32::try_from(km).unwrap_or(0)))
                .collect();
            let unsigned = |v: Option<i32>| v.and_then(|v| u32::try_from(v).ok());
            let projection = maintenance::project(
                Interval {
                    every_days: unsigned(every_days),
                    every_km: unsigned(every_km),
                },
                last.map(|(at, km)| (zone.local_date_of(at), unsigned(km).unwrap_or(0))),
                zone.local_date_of(joined),
                &readings,
                today,
            );
            if projection.state == ServiceState::Ok {
                continue;
            }
            due.push(ServiceDue {
                asset_id: asset,
                plate_or_serial: plate,
                plan_id: plan,
                plan_name,
                state: projection.state.as_str().to_owned(),
                due_date: projection.due_date,
                due_km: projection.due_km,
                odometer_km: readings.iter().max_by_key(|(d, _)| *d).map(|(_, km)| *km),
            });
        }
        let open: Vec<OrderRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ORDER_COLUMNS} FROM work_orders WHERE branch_id = $1 AND status = 'OPEN' ORDER BY start_date"
        )))
        .bind(branch)
        .fetch_all(&self.db)
        .await?;
        Ok(MaintenanceOverview {
            due,
            open_work_orders: open.iter().map(OrderRow::to_dto).collect(),
        })
    }
}
