-- KTP verification under UU PDP: consent records, verification cases, encrypted identity
-- documents (the bytes live in object storage; only their wrapped keys are here), and the
-- append-only log of every access to them.

CREATE TABLE consents (
    id            uuid PRIMARY KEY,
    customer_id   uuid NOT NULL REFERENCES customers (id),
    purpose       text NOT NULL CHECK (purpose IN ('kyc')),
    -- The consent text the customer saw: its version and the SHA-256 of its exact wording.
    text_version  text NOT NULL,
    text_sha256   bytea NOT NULL CHECK (length(text_sha256) = 32),
    accepted_at   timestamptz NOT NULL DEFAULT now(),
    client_ip     text NOT NULL,
    user_agent    text NOT NULL DEFAULT '',
    withdrawn_at  timestamptz
);
CREATE INDEX consents_customer_idx ON consents (customer_id, purpose, accepted_at DESC);

CREATE TABLE kyc_cases (
    id                uuid PRIMARY KEY,
    customer_id       uuid NOT NULL REFERENCES customers (id),
    consent_id        uuid NOT NULL REFERENCES consents (id),
    provider          text NOT NULL CHECK (provider IN ('manual', 'verihubs')),
    status            text NOT NULL CHECK (status IN ('pending_review', 'verified', 'rejected')),
    -- HMAC-SHA256 of the NIK under a key derived from SENTRA_DATA_KEY: finds duplicates without
    -- storing the number. The masked form (3171********0001) is what anyone is shown.
    nik_hash          bytea NOT NULL CHECK (length(nik_hash) = 32),
    nik_masked        text NOT NULL CHECK (nik_masked ~ '^[0-9]{4}\*{8}[0-9]{4}$'),
    full_name         text NOT NULL,
    -- What each check answered (booleans, similarity, reason codes); never images or the NIK.
    checks            jsonb NOT NULL DEFAULT '{}',
    reason            text,
    decided_by        uuid REFERENCES users (id),
    decided_at        timestamptz,
    -- Raw images are deleted after this time by the kyc_purge job; the result stays.
    purge_after       timestamptz,
    images_purged_at  timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'pending_review') = (decided_at IS NULL))
);
CREATE INDEX kyc_cases_customer_idx ON kyc_cases (customer_id, created_at DESC);
CREATE INDEX kyc_cases_nik_idx ON kyc_cases (nik_hash) WHERE status = 'verified';
CREATE INDEX kyc_cases_review_idx ON kyc_cases (created_at) WHERE status = 'pending_review';

CREATE TABLE kyc_documents (
    case_id       uuid NOT NULL REFERENCES kyc_cases (id),
    kind          text NOT NULL CHECK (kind IN ('ktp', 'selfie')),
    object_key    text NOT NULL UNIQUE,
    -- The document's own AES-256-GCM key, encrypted under SENTRA_DATA_KEY (key id for rotation).
    wrapped_key   bytea,
    key_id        text NOT NULL,
    content_type  text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    size_bytes    integer NOT NULL,
    purged_at     timestamptz,
    PRIMARY KEY (case_id, kind),
    CHECK ((purged_at IS NULL) = (wrapped_key IS NOT NULL))
);

-- Who touched which identity document, when, from where. Append-only.
CREATE TABLE pii_access_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES kyc_cases (id),
    kind        text NOT NULL CHECK (kind IN ('ktp', 'selfie')),
    action      text NOT NULL CHECK (action IN ('upload', 'view', 'purge')),
    actor_kind  text NOT NULL CHECK (actor_kind IN ('customer', 'staff', 'system')),
    actor_id    uuid,
    client_ip   text,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pii_access_log_case_idx ON pii_access_log (case_id, at);

CREATE FUNCTION pii_access_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the personal-data access log is append-only' USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER pii_access_log_append_only BEFORE UPDATE OR DELETE ON pii_access_log
    FOR EACH ROW EXECUTE FUNCTION pii_access_log_append_only();
