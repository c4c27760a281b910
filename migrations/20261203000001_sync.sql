-- The sync API: registered desktop devices, and a change feed per branch ordered so that a pull
-- never skips a change committed late (see server/src/sync/feed.rs).

CREATE TABLE sync_devices (
    id             uuid PRIMARY KEY,
    branch_id      uuid NOT NULL REFERENCES branches (id),
    name           text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    -- SHA-256 of the device token; the token itself is shown once, at registration.
    token_hash     bytea NOT NULL UNIQUE,
    registered_by  uuid NOT NULL REFERENCES users (id),
    registered_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at     timestamptz,
    last_seen_at   timestamptz
);

-- One row per change of a record a branch's devices hold. `xid` is the writing transaction's id:
-- a pull returns only changes of transactions older than every transaction still running, so a
-- change that commits late is never passed over by a cursor.
CREATE TABLE sync_changes (
    id         bigserial PRIMARY KEY,
    -- NULL: every branch (the SKU catalogue).
    branch_id  uuid,
    entity     text NOT NULL CHECK (entity IN ('booking', 'asset', 'sku')),
    entity_id  uuid NOT NULL,
    xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_changes_feed_idx ON sync_changes (xid, id);
CREATE INDEX sync_changes_branch_idx ON sync_changes (branch_id, xid, id);

CREATE FUNCTION sync_note_booking() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO sync_changes (branch_id, entity, entity_id) VALUES (NEW.branch_id, 'booking', NEW.id);
    END IF;
    -- A booking that leaves a branch (deleted, or moved with its asset) is a tombstone there.
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.branch_id <> NEW.branch_id) THEN
        INSERT INTO sync_changes (branch_id, entity, entity_id) VALUES (OLD.branch_id, 'booking', OLD.id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sync_bookings AFTER INSERT OR UPDATE OR DELETE ON bookings
    FOR EACH ROW EXECUTE FUNCTION sync_note_booking();

CREATE FUNCTION sync_note_asset() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO sync_changes (branch_id, entity, entity_id) VALUES (NEW.home_branch_id, 'asset', NEW.id);
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.home_branch_id <> NEW.home_branch_id) THEN
        INSERT INTO sync_changes (branch_id, entity, entity_id) VALUES (OLD.home_branch_id, 'asset', OLD.id);
    END IF;
    RETURN NULL;
END $$;
-- Calendar version bumps alone change nothing a device shows.
CREATE TRIGGER sync_assets AFTER INSERT OR DELETE OR UPDATE OF home_branch_id, status, odometer_km,
    label_version, plate_or_serial, sku_id ON assets
    FOR EACH ROW EXECUTE FUNCTION sync_note_asset();

CREATE FUNCTION sync_note_sku() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_changes (branch_id, entity, entity_id)
    VALUES (NULL, 'sku', CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END);
    -- Assets show their SKU's code and name: a rename changes each of them.
    IF TG_OP = 'UPDATE' AND (OLD.code, OLD.name) IS DISTINCT FROM (NEW.code, NEW.name) THEN
        INSERT INTO sync_changes (branch_id, entity, entity_id)
        SELECT a.home_branch_id, 'asset', a.id FROM assets a WHERE a.sku_id = NEW.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER sync_skus AFTER INSERT OR UPDATE OR DELETE ON skus
    FOR EACH ROW EXECUTE FUNCTION sync_note_sku();

-- A customer's counter fields travel with their bookings: a change to them is a change of each
-- of their bookings the branches still hold (history older than a devices' first copy is not
-- sent again).
CREATE FUNCTION sync_note_customer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_changes (branch_id, entity, entity_id)
    SELECT b.branch_id, 'booking', b.id FROM bookings b
    WHERE b.customer_id = NEW.id AND upper(b.occupied) >= current_date - 30;
    RETURN NULL;
END $$;
CREATE TRIGGER sync_customers AFTER UPDATE OF full_name, membership_tier, kyc_status ON customers
    FOR EACH ROW
    WHEN ((OLD.full_name, OLD.membership_tier, OLD.kyc_status)
          IS DISTINCT FROM (NEW.full_name, NEW.membership_tier, NEW.kyc_status))
    EXECUTE FUNCTION sync_note_customer();
