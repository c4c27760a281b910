-- Maintenance (issue 12): service plans per SKU or asset, and work orders whose workshop days
-- block the calendar through the same arbiter as bookings (a MAINTENANCE row of `bookings`, so
-- the exclusion constraint keeps rentals and maintenance apart).

CREATE TABLE maintenance_plans (
    id             uuid PRIMARY KEY,
    sku_id         uuid REFERENCES skus (id),
    asset_id       uuid REFERENCES assets (id),
    name           text NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 120),
    every_days     integer CHECK (every_days BETWEEN 1 AND 3650),
    every_km       integer CHECK (every_km BETWEEN 100 AND 1000000),
    duration_days  integer NOT NULL DEFAULT 1 CHECK (duration_days BETWEEN 1 AND 30),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((sku_id IS NULL) <> (asset_id IS NULL)),
    CHECK (every_days IS NOT NULL OR every_km IS NOT NULL)
);
CREATE INDEX maintenance_plans_sku_idx ON maintenance_plans (sku_id);
CREATE INDEX maintenance_plans_asset_idx ON maintenance_plans (asset_id);

CREATE TABLE work_orders (
    id                uuid PRIMARY KEY,
    asset_id          uuid NOT NULL REFERENCES assets (id),
    branch_id         uuid NOT NULL REFERENCES branches (id),
    plan_id           uuid REFERENCES maintenance_plans (id),
    -- The MAINTENANCE row of `bookings` that blocks the asset's calendar.
    block_booking_id  uuid NOT NULL UNIQUE,
    status            text NOT NULL CHECK (status IN ('OPEN', 'CLOSED')),
    start_date        date NOT NULL,
    end_date          date NOT NULL CHECK (end_date > start_date),
    -- The asset's odometer when the order was opened (the service's reading).
    odometer_km       integer CHECK (odometer_km >= 0),
    reason            text NOT NULL CHECK (length(trim(reason)) BETWEEN 1 AND 500),
    -- Bookings moved to another unit to make room: [{booking_id, from_asset_id, to_asset_id}].
    reassigned        jsonb NOT NULL DEFAULT '[]',
    cost_idr          bigint CHECK (cost_idr >= 0),
    notes             text CHECK (notes IS NULL OR length(notes) <= 2000),
    opened_by         uuid NOT NULL REFERENCES users (id),
    opened_at         timestamptz NOT NULL DEFAULT now(),
    closed_by         uuid REFERENCES users (id),
    closed_at         timestamptz,
    CHECK ((status = 'CLOSED') = (closed_at IS NOT NULL AND cost_idr IS NOT NULL))
);
CREATE INDEX work_orders_asset_idx ON work_orders (asset_id, status);
CREATE INDEX work_orders_branch_idx ON work_orders (branch_id, status);
