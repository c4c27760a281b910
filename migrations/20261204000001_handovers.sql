-- Handovers (issue 12): the rental's pickup and return, overdue rentals that keep their asset,
-- append-only inspection records chained per asset, and the files they refer to.

-- 1. A booking's occupancy can grow at both ends after it was made: an early pickup (with a
--    reason) holds the asset from the day it left, and an overdue rental holds it through the
--    branch's current day until it is back. Both are days counted from the booked period, so the
--    period itself (what the customer booked and pays) never changes. The exclusion constraint
--    compares `occupied`, so growing into another booking's days is refused by Postgres.
ALTER TABLE bookings
    ADD COLUMN early_days   integer NOT NULL DEFAULT 0 CHECK (early_days BETWEEN 0 AND 31),
    ADD COLUMN overrun_days integer NOT NULL DEFAULT 0 CHECK (overrun_days BETWEEN 0 AND 3660),
    ADD COLUMN early_reason text CHECK (early_reason IS NULL OR length(early_reason) BETWEEN 1 AND 1200),
    ADD COLUMN picked_up_at timestamptz,
    ADD COLUMN returned_at  timestamptz,
    ADD COLUMN completed_at timestamptz,
    ADD CONSTRAINT bookings_early_has_reason CHECK (early_days = 0 OR early_reason IS NOT NULL);

-- The generated column cannot be altered in place: drop it (with the per-partition exclusion
-- constraints and the usage index that use it) and add it back with the new expression.
ALTER TABLE bookings DROP COLUMN occupied CASCADE;
ALTER TABLE bookings ADD COLUMN occupied daterange GENERATED ALWAYS AS
    (daterange(lower(period) - early_days, upper(period) + overrun_days + buffer_days, '[)')) STORED;
SELECT create_booking_partition(id) FROM branches;
CREATE INDEX bookings_usage_idx ON bookings USING gist (asset_id, occupied)
    WHERE status IN ('CONFIRMED', 'ACTIVE', 'RETURNED', 'COMPLETED');
-- Overdue rentals are found by their end among the active ones.
CREATE INDEX bookings_active_end_idx ON bookings (upper(period)) WHERE status = 'ACTIVE';

-- 2. Files that records refer to: handover photos and signature images. A row exists only for
--    bytes that are completely stored (status COMPLETE), or for a presigned S3 upload handed out
--    and not yet checked (PENDING): records may refer only to COMPLETE files. Signatures are
--    personal data: their bytes are encrypted like KTP images (wrapped_key, key_id).
CREATE TABLE uploads (
    id            uuid PRIMARY KEY,
    branch_id     uuid NOT NULL REFERENCES branches (id),
    purpose       text NOT NULL CHECK (purpose IN ('PHOTO', 'SIGNATURE')),
    object_key    text NOT NULL UNIQUE,
    content_type  text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    status        text NOT NULL CHECK (status IN ('PENDING', 'COMPLETE')),
    -- Declared by the client for a presigned upload; checked against the stored bytes.
    declared_sha256 text CHECK (declared_sha256 ~ '^[0-9a-f]{64}$'),
    declared_size   bigint CHECK (declared_size > 0),
    -- Of the plain bytes, once complete.
    sha256        text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes    bigint CHECK (size_bytes > 0),
    wrapped_key   bytea,
    key_id        text,
    uploaded_by   uuid NOT NULL REFERENCES users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz,
    CHECK (status <> 'COMPLETE' OR (sha256 IS NOT NULL AND size_bytes IS NOT NULL AND completed_at IS NOT NULL)),
    CHECK ((purpose = 'SIGNATURE') = (wrapped_key IS NOT NULL AND key_id IS NOT NULL) OR status = 'PENDING')
);
CREATE INDEX uploads_pending_idx ON uploads (created_at) WHERE status = 'PENDING';

-- 3. Inspections: append-only, chained per asset. `payload` is the hashed record (see
--    crates/domain/src/inspection.rs); the typed columns repeat what queries need. `seq` numbers
--    an asset's records 1, 2, 3, ... and `prev_hash` names the previous record's hash, so a
--    removed record leaves a gap and a broken link.
CREATE TABLE inspections (
    id                uuid PRIMARY KEY,
    asset_id          uuid NOT NULL REFERENCES assets (id),
    branch_id         uuid NOT NULL REFERENCES branches (id),
    booking_id        uuid,
    kind              text NOT NULL CHECK (kind IN ('PICKUP', 'RETURN', 'DELIVERY', 'TRANSFER')),
    corrects          uuid REFERENCES inspections (id),
    seq               integer NOT NULL CHECK (seq >= 1),
    payload           jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    member_hashes     jsonb NOT NULL,
    tamper_proof_hash text NOT NULL UNIQUE CHECK (tamper_proof_hash ~ '^[0-9a-f]{64}$'),
    prev_hash         text CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    odometer_km       integer NOT NULL CHECK (odometer_km >= 0),
    fuel_eighths      smallint NOT NULL CHECK (fuel_eighths BETWEEN 0 AND 8),
    damage_count      integer NOT NULL CHECK (damage_count >= 0),
    inspector_id      uuid NOT NULL REFERENCES users (id),
    device_id         uuid,
    recorded_at       timestamptz NOT NULL,
    -- SHA-256 of the request that made the record: the same id sent again with the same content
    -- is a replay (answered with this record), with other content a reused id (refused).
    input_hash        text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (asset_id, seq),
    CHECK ((seq = 1) = (prev_hash IS NULL)),
    CHECK (kind IN ('TRANSFER') OR booking_id IS NOT NULL)
);
CREATE INDEX inspections_booking_idx ON inspections (booking_id, created_at);
CREATE INDEX inspections_branch_idx ON inspections (branch_id, created_at);

CREATE FUNCTION inspections_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'inspection records are append-only: record a correction instead'
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER inspections_append_only BEFORE UPDATE OR DELETE ON inspections
    FOR EACH ROW EXECUTE FUNCTION inspections_append_only();
CREATE TRIGGER inspections_no_truncate BEFORE TRUNCATE ON inspections
    FOR EACH STATEMENT EXECUTE FUNCTION inspections_append_only();
