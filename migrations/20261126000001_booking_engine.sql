-- The booking engine: turnaround buffers and maintenance blocks in the no-overlap guarantee,
-- the durable job queue, idempotency keys and the waitlist.

-- A booking occupies its asset for its rental period plus the SKU's turnaround buffer (cleaning,
-- inspection), snapshotted at creation. Maintenance blocks are rows of the same table (kind
-- MAINTENANCE, no customer), so one exclusion constraint guards rentals, buffers and maintenance.
ALTER TABLE bookings
    ADD COLUMN kind text NOT NULL DEFAULT 'RENTAL' CHECK (kind IN ('RENTAL', 'MAINTENANCE')),
    ADD COLUMN buffer_days integer NOT NULL DEFAULT 0 CHECK (buffer_days BETWEEN 0 AND 14),
    ADD COLUMN occupied daterange GENERATED ALWAYS AS
        (daterange(lower(period), upper(period) + buffer_days, '[)')) STORED,
    ALTER COLUMN customer_id DROP NOT NULL,
    ADD CONSTRAINT bookings_customer_for_rentals
        CHECK ((kind = 'RENTAL') = (customer_id IS NOT NULL));

CREATE INDEX bookings_pending_expiry_idx ON bookings (expires_at) WHERE status = 'PENDING_PAYMENT';

-- The constraint now compares occupied ranges (rental + buffer) instead of bare periods.
CREATE OR REPLACE FUNCTION create_booking_partition(p_branch_id uuid) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    part text := 'bookings_' || replace(p_branch_id::text, '-', '');
BEGIN
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF bookings FOR VALUES IN (%L)',
                   part, p_branch_id);
    IF EXISTS (SELECT 1 FROM pg_constraint
               WHERE conrelid = part::regclass AND conname = part || '_no_overlap'
                 AND pg_get_constraintdef(oid) NOT LIKE '%occupied%') THEN
        EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', part, part || '_no_overlap');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint
                   WHERE conrelid = part::regclass AND conname = part || '_no_overlap') THEN
        EXECUTE format(
            'ALTER TABLE %I ADD CONSTRAINT %I EXCLUDE USING gist (asset_id WITH =, occupied WITH &&) '
            'WHERE (status IN (''PENDING_PAYMENT'', ''CONFIRMED'', ''ACTIVE''))',
            part, part || '_no_overlap');
    END IF;
    RETURN part;
END;
$$;

SELECT create_booking_partition(id) FROM branches;

-- Durable background work, enqueued in the same transaction as the write that needs it and
-- claimed with FOR UPDATE SKIP LOCKED, so it survives restarts and runs once per success.
CREATE TABLE jobs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL,
    payload     jsonb NOT NULL,
    run_at      timestamptz NOT NULL DEFAULT now(),
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_due_idx ON jobs (run_at);

-- Replays of a create request with the same Idempotency-Key get the first response back.
CREATE TABLE idempotency_keys (
    scope           text NOT NULL,
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash    bytea NOT NULL,
    response_status integer,
    response_body   jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

-- The waitlist's truth; Redis holds a sorted-set index of it.
CREATE TABLE waitlist (
    id             uuid PRIMARY KEY,
    sku_id         uuid NOT NULL REFERENCES skus (id),
    branch_id      uuid REFERENCES branches (id),
    customer_id    uuid NOT NULL REFERENCES customers (id),
    period         daterange NOT NULL CHECK (NOT isempty(period) AND NOT lower_inf(period) AND NOT upper_inf(period)),
    -- Lower sorts first: tier weight (platinum first) then enqueue time.
    priority       double precision NOT NULL,
    status         text NOT NULL DEFAULT 'WAITING' CHECK (status IN ('WAITING', 'OFFERED', 'FULFILLED', 'LEFT', 'EXPIRED')),
    offer_booking_id uuid,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
-- Joining twice is idempotent: one open entry per customer, SKU, branch scope and period.
CREATE UNIQUE INDEX waitlist_one_open_entry ON waitlist
    (customer_id, sku_id, coalesce(branch_id, '00000000-0000-0000-0000-000000000000'::uuid), period)
    WHERE status IN ('WAITING', 'OFFERED');
CREATE INDEX waitlist_queue_idx ON waitlist (sku_id, priority) WHERE status = 'WAITING';

-- Bookings are addressed by id alone in the API; the primary key leads with branch_id.
CREATE INDEX bookings_id_idx ON bookings (id);
