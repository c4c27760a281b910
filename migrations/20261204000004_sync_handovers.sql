-- Handover records, printed documents and work orders join the branch change feed (issue 12).

ALTER TABLE sync_changes DROP CONSTRAINT sync_changes_entity_check;
ALTER TABLE sync_changes ADD CONSTRAINT sync_changes_entity_check
    CHECK (entity IN ('booking', 'asset', 'sku', 'inspection', 'document', 'work_order'));

CREATE FUNCTION sync_note_branch_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_changes (branch_id, entity, entity_id) VALUES (NEW.branch_id, TG_ARGV[0], NEW.id);
    RETURN NULL;
END $$;
-- Inspections and documents are append-only: only inserts happen.
CREATE TRIGGER sync_inspections AFTER INSERT ON inspections
    FOR EACH ROW EXECUTE FUNCTION sync_note_branch_record('inspection');
CREATE TRIGGER sync_documents AFTER INSERT ON documents
    FOR EACH ROW EXECUTE FUNCTION sync_note_branch_record('document');
CREATE TRIGGER sync_work_orders AFTER INSERT OR UPDATE ON work_orders
    FOR EACH ROW EXECUTE FUNCTION sync_note_branch_record('work_order');

-- Desktops push inspections too.
ALTER TABLE sync_operations DROP CONSTRAINT sync_operations_kind_check;
ALTER TABLE sync_operations ADD CONSTRAINT sync_operations_kind_check
    CHECK (kind IN ('confirm_booking', 'cancel_booking', 'update_asset', 'record_inspection'));
