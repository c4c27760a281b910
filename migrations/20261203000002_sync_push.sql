-- Operations pushed by devices: each is done once; a replay answers the stored result.
CREATE TABLE sync_operations (
    device_id    uuid NOT NULL REFERENCES sync_devices (id),
    op_id        uuid NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('confirm_booking', 'cancel_booking', 'update_asset')),
    result       jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, op_id)
);
