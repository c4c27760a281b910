-- Issue 15: personal data under UU PDP.

-- Staff see the last four digits of a NIK only (was: the first four and the last four).
ALTER TABLE kyc_cases DROP CONSTRAINT kyc_cases_nik_masked_check;
UPDATE kyc_cases SET nik_masked = repeat('*', 12) || right(nik_masked, 4);
ALTER TABLE kyc_cases ADD CONSTRAINT kyc_cases_nik_masked_check
    CHECK (nik_masked ~ '^\*{12}([0-9]{4}|\*{4})$');  -- all asterisks once the customer is erased

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

-- A consent is proof: it can only gain its withdrawal time, once, and lose its address and user
-- agent when the customer is erased.
CREATE FUNCTION consents_only_withdrawn() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE'
       OR (NEW.id, NEW.customer_id, NEW.purpose, NEW.text_version, NEW.text_sha256, NEW.accepted_at)
          IS DISTINCT FROM
          (OLD.id, OLD.customer_id, OLD.purpose, OLD.text_version, OLD.text_sha256, OLD.accepted_at)
       OR (NEW.withdrawn_at IS DISTINCT FROM OLD.withdrawn_at
           AND (OLD.withdrawn_at IS NOT NULL OR NEW.withdrawn_at IS NULL))
       OR ((NEW.client_ip, NEW.user_agent) IS DISTINCT FROM (OLD.client_ip, OLD.user_agent)
           AND (NEW.client_ip <> '' OR NEW.user_agent <> '')) THEN
        RAISE EXCEPTION 'a consent can only gain withdrawn_at (or lose its address on erasure; % refused)', TG_OP
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

-- Erasure (UU PDP Pasal 43): the customer row stays as a pseudonym (bookings, invoices and
-- handover records keep pointing at it for tax and disputes), its personal fields are cleared.
ALTER TABLE customers ADD COLUMN erased_at timestamptz;
ALTER TABLE customers DROP CONSTRAINT customers_check;
ALTER TABLE customers ADD CONSTRAINT customers_contact_check
    CHECK (phone IS NOT NULL OR email IS NOT NULL OR erased_at IS NOT NULL);

-- The document access log stays append-only, except that ids and addresses may be removed: an
-- erased customer's identity is pseudonymised, and addresses past their retention period go.
CREATE OR REPLACE FUNCTION pii_access_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (NEW.id, NEW.case_id, NEW.kind, NEW.action, NEW.actor_kind, NEW.at)
           IS NOT DISTINCT FROM (OLD.id, OLD.case_id, OLD.kind, OLD.action, OLD.actor_kind, OLD.at)
       AND (NEW.actor_id IS NULL OR NEW.actor_id = OLD.actor_id)
       AND (NEW.client_ip IS NULL OR NEW.client_ip = OLD.client_ip) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the personal-data access log is append-only' USING ERRCODE = 'restrict_violation';
END;
$$;

-- What we owe processors after an erasure (the deletion request the processor contract
-- foresees), sent by the notifier.
CREATE TABLE processor_requests (
    id            uuid PRIMARY KEY,
    processor     text NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('erasure')),
    reference     text NOT NULL,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz
);

ALTER TABLE auth_sessions DROP CONSTRAINT auth_sessions_revoked_because_check;
ALTER TABLE auth_sessions ADD CONSTRAINT auth_sessions_revoked_because_check
    CHECK (revoked_because IN ('logout', 'password_changed', 'refresh_token_reused',
                               'login_changed', 'account_erased'));
