-- Authentication: customer passwords, rotating refresh tokens, login throttling.

ALTER TABLE customers ADD COLUMN password_hash text;

-- Refresh tokens are stored only as SHA-256 hashes. Each login starts a family; every refresh
-- replaces the token with a new one of the same family. Presenting a replaced token again means
-- it was stolen (or replayed): the whole family is revoked.
CREATE TABLE refresh_tokens (
    id            uuid PRIMARY KEY,
    subject_kind  text NOT NULL CHECK (subject_kind IN ('staff', 'customer')),
    subject_id    uuid NOT NULL,
    family_id     uuid NOT NULL,
    token_hash    bytea NOT NULL UNIQUE,
    expires_at    timestamptz NOT NULL,
    replaced_at   timestamptz,
    revoked_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_subject_idx ON refresh_tokens (subject_kind, subject_id);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

-- Failed logins per key (an account or a client address) in the current window.
CREATE TABLE login_failures (
    key             text PRIMARY KEY,
    failures        integer NOT NULL,
    window_started  timestamptz NOT NULL,
    locked_until    timestamptz
);
