-- Inventory management: the SKU's late-fee rule and checklist template, asset label versions,
-- and the internal transfer notes written when an asset moves to another branch.

ALTER TABLE skus
    ADD COLUMN late_grace_minutes     integer NOT NULL DEFAULT 60 CHECK (late_grace_minutes BETWEEN 0 AND 1440),
    ADD COLUMN late_fee_per_hour_idr  bigint NOT NULL DEFAULT 0 CHECK (late_fee_per_hour_idr >= 0),
    ADD COLUMN late_fee_daily_cap_idr bigint NOT NULL DEFAULT 0 CHECK (late_fee_daily_cap_idr >= late_fee_per_hour_idr),
    ADD COLUMN checklist              jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(checklist) = 'array'),
    ADD COLUMN updated_at             timestamptz NOT NULL DEFAULT now();

-- Existing SKUs: a started late hour costs a tenth of a day, a late day at most a day's rate.
UPDATE skus SET late_fee_per_hour_idr = daily_rate_idr / 10, late_fee_daily_cap_idr = daily_rate_idr;

-- A re-issued label (lost, damaged) gets the next version; only the newest one scans.
ALTER TABLE assets
    ADD COLUMN label_version integer NOT NULL DEFAULT 1 CHECK (label_version >= 1),
    ADD COLUMN updated_at    timestamptz NOT NULL DEFAULT now();

-- Internal transfer notes: the record of an asset moving between branches, and the data of the
-- surat jalan that travels with it. Append-only.
CREATE TABLE transfer_notes (
    id               uuid PRIMARY KEY,
    -- TR/<from code>/<year>/<6-digit sequence>, unique and gap-free per origin branch and year.
    number           text NOT NULL UNIQUE,
    asset_id         uuid NOT NULL REFERENCES assets (id),
    from_branch_id   uuid NOT NULL REFERENCES branches (id),
    to_branch_id     uuid NOT NULL REFERENCES branches (id) CHECK (to_branch_id <> from_branch_id),
    moved_booking_ids uuid[] NOT NULL,
    reason           text NOT NULL,
    -- Everything printed on the note, as it was at the time of the transfer.
    details          jsonb NOT NULL,
    created_by       uuid NOT NULL REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transfer_notes_asset_idx ON transfer_notes (asset_id, created_at);

CREATE TABLE transfer_note_sequences (
    branch_id  uuid NOT NULL REFERENCES branches (id),
    year       integer NOT NULL,
    last       integer NOT NULL,
    PRIMARY KEY (branch_id, year)
);

CREATE FUNCTION transfer_notes_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'transfer notes are append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER transfer_notes_append_only BEFORE UPDATE OR DELETE ON transfer_notes
    FOR EACH ROW EXECUTE FUNCTION transfer_notes_append_only();
