-- Bookings, partitioned by the asset's home branch, with the no-double-booking guarantee.
--
-- Invariant: no two active bookings (PENDING_PAYMENT, CONFIRMED, ACTIVE) of one asset overlap.
-- PostgreSQL 15 refuses exclusion constraints on a partitioned parent, so every partition carries
-- its own, created together with the partition by create_booking_partition(). Because branch_id is
-- the asset's HOME branch (enforced by the foreign key below), all bookings of one asset live in
-- one partition, so a per-partition constraint is a global one.

CREATE TABLE bookings (
    id           uuid NOT NULL,
    branch_id    uuid NOT NULL,
    asset_id     uuid NOT NULL,
    customer_id  uuid NOT NULL REFERENCES customers (id),
    -- Half-open range of local dates in the branch's time zone: [pickup day, return day).
    period       daterange NOT NULL CHECK (
                     NOT isempty(period) AND lower_inc(period) AND NOT upper_inc(period)
                     AND NOT lower_inf(period) AND NOT upper_inf(period)),
    status       text NOT NULL CHECK (status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE', 'RETURNED',
                                                 'COMPLETED', 'CANCELLED', 'EXPIRED', 'NO_SHOW')),
    -- The payment window of a PENDING_PAYMENT booking and the token that may confirm it.
    expires_at   timestamptz,
    hold_token   uuid,
    total_idr    bigint NOT NULL DEFAULT 0 CHECK (total_idr >= 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (branch_id, id),
    -- Moving an asset to another branch moves its bookings' partition key along.
    FOREIGN KEY (branch_id, asset_id) REFERENCES assets (home_branch_id, id) ON UPDATE CASCADE,
    CHECK (status <> 'PENDING_PAYMENT' OR (expires_at IS NOT NULL AND hold_token IS NOT NULL))
) PARTITION BY LIST (branch_id);

CREATE INDEX bookings_asset_idx ON bookings (asset_id);
CREATE INDEX bookings_customer_idx ON bookings (customer_id);

-- Creates the bookings partition of one branch with its exclusion constraint. Idempotent.
CREATE FUNCTION create_booking_partition(p_branch_id uuid) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    part text := 'bookings_' || replace(p_branch_id::text, '-', '');
BEGIN
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF bookings FOR VALUES IN (%L)',
                   part, p_branch_id);
    IF NOT EXISTS (SELECT 1 FROM pg_constraint
                   WHERE conrelid = part::regclass AND conname = part || '_no_overlap') THEN
        EXECUTE format(
            'ALTER TABLE %I ADD CONSTRAINT %I EXCLUDE USING gist (asset_id WITH =, period WITH &&) '
            'WHERE (status IN (''PENDING_PAYMENT'', ''CONFIRMED'', ''ACTIVE''))',
            part, part || '_no_overlap');
    END IF;
    RETURN part;
END;
$$;

-- Every branch gets its partition the moment it exists, whoever inserts it.
CREATE FUNCTION branches_create_partition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM create_booking_partition(NEW.id);
    RETURN NEW;
END;
$$;

CREATE TRIGGER branches_create_partition
    AFTER INSERT ON branches
    FOR EACH ROW EXECUTE FUNCTION branches_create_partition();
