-- Printed rental documents (issue 12): the surat jalan and the rental agreement of a handover,
-- numbered gap-free per branch, kind and year, stored as PDF with their SHA-256. Append-only.

ALTER TABLE assets ADD COLUMN colour text NOT NULL DEFAULT '' CHECK (length(colour) <= 40);

CREATE TABLE documents (
    id             uuid PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('SURAT_JALAN', 'AGREEMENT')),
    -- SJ/<branch code>/<year>/<6 digits> (surat jalan), PS/<branch code>/<year>/<6 digits>
    -- (perjanjian sewa): gap-free per branch, kind and (branch-local) year.
    number         text NOT NULL UNIQUE,
    branch_id      uuid NOT NULL REFERENCES branches (id),
    booking_id     uuid NOT NULL,
    inspection_id  uuid NOT NULL REFERENCES inspections (id),
    object_key     text NOT NULL UNIQUE,
    sha256         text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes     bigint NOT NULL CHECK (size_bytes > 0),
    created_by     uuid NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    -- One of each per handover: printing again prints the same document.
    UNIQUE (inspection_id, kind)
);
CREATE INDEX documents_booking_idx ON documents (booking_id);

CREATE TABLE document_sequences (
    branch_id  uuid NOT NULL REFERENCES branches (id),
    kind       text NOT NULL,
    year       integer NOT NULL,
    last       integer NOT NULL CHECK (last >= 1),
    PRIMARY KEY (branch_id, kind, year)
);

CREATE FUNCTION documents_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'documents are append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER documents_append_only BEFORE UPDATE OR DELETE ON documents
    FOR EACH ROW EXECUTE FUNCTION documents_append_only();
CREATE TRIGGER documents_no_truncate BEFORE TRUNCATE ON documents
    FOR EACH STATEMENT EXECUTE FUNCTION documents_append_only();
