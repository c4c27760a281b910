-- Every KYC submission that reached the provider (each one costs a paid Verihubs call), for the
-- per-customer daily limit. Rows older than a day are deleted as new attempts come in.
CREATE TABLE kyc_attempts (
    customer_id   uuid NOT NULL REFERENCES customers (id),
    attempted_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kyc_attempts_customer_idx ON kyc_attempts (customer_id, attempted_at);
