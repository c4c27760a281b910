-- Availability search at fleet scale: every asset gets a small, stable number within its SKU (its
-- bit in the Redis per-SKU day bitmaps), and each SKU carries a version that changes whenever its
-- fleet changes, so servers know when their cached fleet list is stale.

ALTER TABLE assets ADD COLUMN sku_ordinal integer;
UPDATE assets a SET sku_ordinal = n.ordinal
FROM (SELECT id, row_number() OVER (PARTITION BY sku_id ORDER BY created_at, id) - 1 AS ordinal FROM assets) n
WHERE n.id = a.id;
ALTER TABLE assets ALTER COLUMN sku_ordinal SET NOT NULL,
    ADD CONSTRAINT assets_sku_ordinal_unique UNIQUE (sku_id, sku_ordinal);

ALTER TABLE skus ADD COLUMN fleet_version bigint NOT NULL DEFAULT 0;

CREATE FUNCTION assets_assign_ordinal() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.sku_ordinal IS NULL THEN
        -- Serialise numbering per SKU; ordinals are never reused (retired assets keep theirs).
        PERFORM pg_advisory_xact_lock(hashtextextended(NEW.sku_id::text, 0));
        SELECT coalesce(max(sku_ordinal) + 1, 0) INTO NEW.sku_ordinal FROM assets WHERE sku_id = NEW.sku_id;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER assets_assign_ordinal BEFORE INSERT ON assets
    FOR EACH ROW EXECUTE FUNCTION assets_assign_ordinal();

CREATE FUNCTION assets_bump_fleet_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Only what availability search shows counts (odometer readings do not).
    IF TG_OP = 'UPDATE' AND (OLD.sku_id, OLD.home_branch_id, OLD.status, OLD.plate_or_serial)
                            IS NOT DISTINCT FROM (NEW.sku_id, NEW.home_branch_id, NEW.status, NEW.plate_or_serial) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE skus SET fleet_version = fleet_version + 1 WHERE id = NEW.sku_id;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') AND (TG_OP = 'DELETE' OR OLD.sku_id <> NEW.sku_id) THEN
        UPDATE skus SET fleet_version = fleet_version + 1 WHERE id = OLD.sku_id;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER assets_bump_fleet_version AFTER INSERT OR UPDATE OR DELETE ON assets
    FOR EACH ROW EXECUTE FUNCTION assets_bump_fleet_version();
