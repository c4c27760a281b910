-- Issue 14: sessions that really end, lockout per account, KYC reviewers, contact-change notices.

-- A session is what one login starts: its refresh tokens (one family) and every access token
-- issued to it carry its id. Every request checks the session here, so an access token stops
-- working the moment its session ends (logout, password change, reused refresh token), and the
-- caller's role and branches are read from the account, not trusted from the token's claims.
CREATE TABLE auth_sessions (
    id               uuid PRIMARY KEY,
    subject_kind     text NOT NULL CHECK (subject_kind IN ('staff', 'customer')),
    subject_id       uuid NOT NULL,
    started_at       timestamptz NOT NULL DEFAULT now(),
    revoked_at       timestamptz,
    revoked_because  text CHECK (revoked_because IN
        ('logout', 'password_changed', 'refresh_token_reused', 'login_changed')),
    CHECK ((revoked_at IS NULL) = (revoked_because IS NULL))
);
CREATE INDEX auth_sessions_subject_idx ON auth_sessions (subject_kind, subject_id)
    WHERE revoked_at IS NULL;

-- Every existing token family becomes a session (ended if all its tokens are revoked).
INSERT INTO auth_sessions (id, subject_kind, subject_id, started_at, revoked_at, revoked_because)
SELECT family_id, min(subject_kind), (array_agg(subject_id))[1], min(created_at),
       CASE WHEN bool_and(revoked_at IS NOT NULL) THEN max(revoked_at) END,
       CASE WHEN bool_and(revoked_at IS NOT NULL) THEN 'logout' END
FROM refresh_tokens GROUP BY family_id;

ALTER TABLE refresh_tokens ADD CONSTRAINT refresh_tokens_session_fk
    FOREIGN KEY (family_id) REFERENCES auth_sessions (id) ON DELETE CASCADE;

-- KYC reviewers (HQ or regional) review verifications and open identity documents; branch
-- admins see the status and the masked NIK only.
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_role_check;
ALTER TABLE users ADD CONSTRAINT users_role_check
    CHECK (role IN ('inspector', 'branch_admin', 'hq_admin', 'kyc_reviewer'));

-- Messages owed to a customer, written in the same transaction as the change they announce and
-- sent by the notifier. Today: "your login e-mail / phone was changed", to the old address.
CREATE TABLE notification_outbox (
    id           uuid PRIMARY KEY,
    customer_id  uuid REFERENCES customers (id) ON DELETE CASCADE,
    channel      text NOT NULL CHECK (channel IN ('email', 'whatsapp')),
    recipient    text NOT NULL,
    template     text NOT NULL,
    params       jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz
);
CREATE INDEX notification_outbox_unsent_idx ON notification_outbox (created_at) WHERE sent_at IS NULL;
