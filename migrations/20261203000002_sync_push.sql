-- Operations pushed by devices, one row per operation id and branch: claimed in the transaction
-- that carries the operation out (so a crash after it commits still leaves the claim, and a
-- retry does not run it again), its result stored after. A reused id with another body is
-- refused by its request hash.
CREATE TABLE sync_operations (
    branch_id     uuid NOT NULL REFERENCES branches (id),
    op_id         uuid NOT NULL,
    device_id     uuid NOT NULL REFERENCES sync_devices (id),
    kind          text NOT NULL CHECK (kind IN ('confirm_booking', 'cancel_booking', 'update_asset')),
    request_hash  bytea NOT NULL,
    -- NULL between the operation's commit and the storing of its answer: it was applied.
    result        jsonb,
    received_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (branch_id, op_id)
);
