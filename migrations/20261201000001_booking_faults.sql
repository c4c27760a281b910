-- Right answers under faults (issue 8).
--
-- 1. A per-asset calendar version. Every transaction that changes an asset's occupancy (a new
--    hold, an expiry, a cancellation) bumps it while holding the asset's row lock, so versions of
--    one asset follow commit order. The Redis calendar stores the version it reflects next to the
--    bits; a write that is not newer never lands (see server/src/cache/calendar.rs).
--    Version 0 means "never had a booking" (empty bits, as a Redis that lost its data reads it);
--    assets that may already have bookings start at 1, so their first change shows a gap and
--    rebuilds them rather than landing on empty bits.
ALTER TABLE assets ADD COLUMN calendar_version bigint NOT NULL DEFAULT 0;
UPDATE assets SET calendar_version = 1;

-- The fleet version only cares about what search shows; bumping the calendar version must not
-- run that trigger's body for every booking.
DROP TRIGGER assets_bump_fleet_version ON assets;
CREATE TRIGGER assets_bump_fleet_version
    AFTER INSERT OR DELETE OR UPDATE OF sku_id, home_branch_id, status, plate_or_serial ON assets
    FOR EACH ROW EXECUTE FUNCTION assets_bump_fleet_version();

-- 2. History stays where it happened. Only the bookings that still hold the asset (pending,
--    confirmed, active) follow it to a new home branch; finished, cancelled and expired ones keep
--    the branch they were made at. The exclusion constraint only concerns the holding ones, and
--    they all live in the home branch's partition, so a per-partition constraint is still global.
ALTER TABLE bookings DROP CONSTRAINT bookings_branch_id_asset_id_fkey;
ALTER TABLE bookings ADD CONSTRAINT bookings_asset_id_fkey
    FOREIGN KEY (asset_id) REFERENCES assets (id);

-- A holding booking must be in its asset's home branch. The asset row is read FOR KEY SHARE:
-- a transfer (which changes the asset's key (home_branch_id, id): the UNIQUE (home_branch_id, id)
-- constraint of assets is what makes it a key change, so keep it) waits for this insert to end,
-- or this insert waits for the transfer and sees the new home. Status changes between holding
-- statuses of a row that stays put (a confirm, a pickup) are not checked: they cannot misplace
-- the row, and must not lock the asset (a confirm would otherwise wait on the sweeper).
CREATE FUNCTION bookings_hold_in_home_branch() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    home uuid;
BEGIN
    IF NEW.status NOT IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE') THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE')
       AND OLD.branch_id = NEW.branch_id AND OLD.asset_id = NEW.asset_id THEN
        RETURN NEW;
    END IF;
    SELECT home_branch_id INTO home FROM assets WHERE id = NEW.asset_id FOR KEY SHARE;
    IF home IS DISTINCT FROM NEW.branch_id THEN
        RAISE EXCEPTION 'a holding booking must be in its asset''s home branch'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'bookings_hold_in_home_branch';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER bookings_hold_in_home_branch
    BEFORE INSERT OR UPDATE OF branch_id, asset_id, status ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_hold_in_home_branch();

-- Moving an asset moves its holding bookings (into the new branch's partition, where the
-- exclusion constraint checks them again) in the same transaction.
CREATE FUNCTION assets_move_holding_bookings() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE bookings SET branch_id = NEW.home_branch_id, updated_at = now()
    WHERE branch_id = OLD.home_branch_id AND asset_id = NEW.id
      AND status IN ('PENDING_PAYMENT', 'CONFIRMED', 'ACTIVE');
    RETURN NULL;
END;
$$;
CREATE TRIGGER assets_move_holding_bookings
    AFTER UPDATE OF home_branch_id ON assets
    FOR EACH ROW WHEN (OLD.home_branch_id IS DISTINCT FROM NEW.home_branch_id)
    EXECUTE FUNCTION assets_move_holding_bookings();

-- 3. Idempotency keys are stored only together with their outcome (in the transaction that made
--    the decision), so no key can be left "in progress". Rows left in progress by the old code
--    are dropped: their request's retry runs again.
DELETE FROM idempotency_keys WHERE response_status IS NULL OR response_body IS NULL;
ALTER TABLE idempotency_keys
    ALTER COLUMN response_status SET NOT NULL,
    ALTER COLUMN response_body SET NOT NULL;

-- 4. Confirming a waitlist offer marks its entry FULFILLED in the same transaction; it finds
--    the entry by its offer.
CREATE INDEX waitlist_offer_idx ON waitlist (offer_booking_id) WHERE offer_booking_id IS NOT NULL;
