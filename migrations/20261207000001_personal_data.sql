-- Issue 15: personal data under UU PDP.

-- Staff see the last four digits of a NIK only (was: the first four and the last four).
ALTER TABLE kyc_cases DROP CONSTRAINT kyc_cases_nik_masked_check;
UPDATE kyc_cases SET nik_masked = repeat('*', 12) || right(nik_masked, 4);
ALTER TABLE kyc_cases ADD CONSTRAINT kyc_cases_nik_masked_check
    CHECK (nik_masked ~ '^\*{12}[0-9]{4}$');

-- Consent is to the words shown: every consent text consented to is kept here, insert-only,
-- and each consent names its text by SHA-256 (rows older than this table are not checked).
CREATE TABLE consent_texts (
    sha256          bytea PRIMARY KEY CHECK (length(sha256) = 32),
    version         text NOT NULL,
    text_id         text NOT NULL,
    text_en         text NOT NULL,
    retention_days  integer NOT NULL CHECK (retention_days > 0),
    published_at    timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION consent_texts_insert_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'consent texts are insert-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER consent_texts_insert_only BEFORE UPDATE OR DELETE ON consent_texts
    FOR EACH ROW EXECUTE FUNCTION consent_texts_insert_only();
CREATE TRIGGER consent_texts_no_truncate BEFORE TRUNCATE ON consent_texts
    FOR EACH STATEMENT EXECUTE FUNCTION consent_texts_insert_only();

ALTER TABLE consents ADD CONSTRAINT consents_text_fk
    FOREIGN KEY (text_sha256) REFERENCES consent_texts (sha256) NOT VALID;

-- A consent is proof: it can only gain its withdrawal time, once.
CREATE FUNCTION consents_only_withdrawn() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' THEN
        RAISE EXCEPTION 'consents are kept as proof (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.withdrawn_at IS NOT NULL OR NEW.withdrawn_at IS NULL
       OR (NEW.id, NEW.customer_id, NEW.purpose, NEW.text_version, NEW.text_sha256,
           NEW.accepted_at, NEW.client_ip, NEW.user_agent)
          IS DISTINCT FROM
          (OLD.id, OLD.customer_id, OLD.purpose, OLD.text_version, OLD.text_sha256,
           OLD.accepted_at, OLD.client_ip, OLD.user_agent) THEN
        RAISE EXCEPTION 'a consent can only gain withdrawn_at'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER consents_only_withdrawn BEFORE UPDATE OR DELETE ON consents
    FOR EACH ROW EXECUTE FUNCTION consents_only_withdrawn();
CREATE TRIGGER consents_no_truncate BEFORE TRUNCATE ON consents
    FOR EACH STATEMENT EXECUTE FUNCTION consents_only_withdrawn();

-- The document vault's keyring: how each wrapped key was sealed (0: before the keyring, the raw
-- key `k1`; 1: an HKDF-derived key-encryption key with the key id and the document's binding as
-- associated data). `sentra-server rotate-data-key` brings every row to the current key and
-- format 1.
ALTER TABLE kyc_documents ADD COLUMN format smallint NOT NULL DEFAULT 0 CHECK (format IN (0, 1));
ALTER TABLE uploads ADD COLUMN format smallint NOT NULL DEFAULT 0 CHECK (format IN (0, 1));
