-- Payments (issue 13): deposit holds at Midtrans, Xendit or the counter, their append-only
-- ledger in integer Rupiah, verified webhooks stored once, the bill at return and its invoice.

-- The price of one eighth of a tank, charged when a vehicle comes back with less fuel.
ALTER TABLE skus ADD COLUMN fuel_per_eighth_idr bigint NOT NULL DEFAULT 0
    CHECK (fuel_per_eighth_idr >= 0);
UPDATE skus SET fuel_per_eighth_idr = 75000 WHERE category = 'car';
UPDATE skus SET fuel_per_eighth_idr = 10000 WHERE category = 'motorbike';

CREATE TABLE payment_holds (
    id                    uuid PRIMARY KEY,
    booking_id            uuid NOT NULL,
    branch_id             uuid NOT NULL REFERENCES branches (id),
    customer_id           uuid NOT NULL REFERENCES customers (id),
    provider              text NOT NULL CHECK (provider IN ('midtrans', 'xendit', 'manual')),
    method                text NOT NULL CHECK (method IN ('card', 'gopay', 'cash', 'transfer')),
    -- DEPOSIT: the rental and deposit held before pickup. CHARGE: what the bill left above the
    -- hold, paid by a new payment (captured as soon as it is authorised).
    purpose               text NOT NULL DEFAULT 'DEPOSIT' CHECK (purpose IN ('DEPOSIT', 'CHARGE')),
    status                text NOT NULL CHECK (status IN ('PENDING', 'AUTHORISED', 'CAPTURED',
                                                          'RELEASED', 'FAILED', 'EXPIRED', 'VOIDED')),
    amount_idr            bigint NOT NULL CHECK (amount_idr > 0),
    authorised_idr        bigint NOT NULL DEFAULT 0 CHECK (authorised_idr >= 0),
    captured_idr          bigint NOT NULL DEFAULT 0 CHECK (captured_idr >= 0),
    returned_idr          bigint NOT NULL DEFAULT 0 CHECK (returned_idr >= 0),
    -- Given back by refund after a capture (a deposit captured before its hold lapsed).
    refunded_idr          bigint NOT NULL DEFAULT 0 CHECK (refunded_idr >= 0),
    -- Our reference at the provider: Midtrans order_id, Xendit reference_id, or the receipt
    -- number of a cash deposit (KW/<branch>/<year>/<6 digits>).
    order_id              text NOT NULL UNIQUE CHECK (order_id ~ '^[A-Za-z0-9/_.~-]{1,50}$'),
    -- The provider's id: Midtrans transaction_id, Xendit payment id (py-...).
    provider_payment_id   text UNIQUE,
    -- Where the customer completes 3-D Secure or an app approval.
    action_url            text,
    -- The acquiring bank (some cannot void an uncaptured card hold).
    bank                  text,
    -- When the provider lets the hold go by itself (about 7 days for cards).
    lapses_at             timestamptz,
    -- What a cancel at the provider means now: asked by us before use (VOID), after the rental
    -- (RELEASE), or nothing asked (a lapse).
    cancel_asked          text CHECK (cancel_asked IN ('VOID', 'RELEASE')),
    -- Staff must act (a hold about to lapse, a bank that cannot void): shown in reports.
    attention             text,
    -- The receipt given back with a cash deposit's return.
    return_receipt        text UNIQUE,
    created_by            uuid REFERENCES users (id),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK (authorised_idr >= captured_idr + returned_idr),
    CHECK (refunded_idr <= captured_idr),
    CHECK (authorised_idr <= amount_idr)
);
-- One live hold of each purpose per booking.
CREATE UNIQUE INDEX payment_holds_one_live ON payment_holds (booking_id, purpose)
    WHERE status IN ('PENDING', 'AUTHORISED', 'CAPTURED');
CREATE INDEX payment_holds_branch_idx ON payment_holds (branch_id, status);

-- The database refuses a hold going back or its amounts shrinking, whatever the code does.
CREATE FUNCTION payment_holds_forward_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> OLD.status AND NOT (
        (OLD.status = 'PENDING' AND NEW.status IN ('AUTHORISED', 'FAILED', 'EXPIRED', 'VOIDED'))
        OR (OLD.status = 'AUTHORISED' AND NEW.status IN ('CAPTURED', 'RELEASED', 'EXPIRED', 'VOIDED'))
        OR (OLD.status = 'CAPTURED' AND NEW.status = 'RELEASED')) THEN
        RAISE EXCEPTION 'a % hold cannot become %', OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.authorised_idr < OLD.authorised_idr OR NEW.captured_idr < OLD.captured_idr
       OR NEW.returned_idr < OLD.returned_idr OR NEW.refunded_idr < OLD.refunded_idr
       OR NEW.id <> OLD.id
       OR NEW.booking_id <> OLD.booking_id OR NEW.amount_idr <> OLD.amount_idr THEN
        RAISE EXCEPTION 'a hold''s amounts only grow' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER payment_holds_forward_only BEFORE UPDATE ON payment_holds
    FOR EACH ROW EXECUTE FUNCTION payment_holds_forward_only();

-- Every change of a hold, in integer Rupiah. Append-only.
CREATE TABLE payment_ledger (
    id            bigserial PRIMARY KEY,
    hold_id       uuid NOT NULL REFERENCES payment_holds (id),
    branch_id     uuid NOT NULL REFERENCES branches (id),
    entry         text NOT NULL CHECK (entry IN ('AUTHORISED', 'CAPTURED', 'RELEASED', 'VOIDED',
                                                 'EXPIRED', 'REFUNDED')),
    amount_idr    bigint NOT NULL CHECK (amount_idr >= 0),
    status_after  text NOT NULL,
    -- Who moved it: the API call's answer, a webhook's job, a staff action, the reconciliation.
    source        text NOT NULL CHECK (source IN ('api', 'webhook', 'job', 'staff', 'reconcile')),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_ledger_hold_idx ON payment_ledger (hold_id, id);
CREATE INDEX payment_ledger_day_idx ON payment_ledger (created_at);

CREATE FUNCTION payments_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER payment_ledger_append_only BEFORE UPDATE OR DELETE ON payment_ledger
    FOR EACH ROW EXECUTE FUNCTION payments_append_only();
CREATE TRIGGER payment_ledger_no_truncate BEFORE TRUNCATE ON payment_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION payments_append_only();

-- Verified webhooks, each stored once: the provider's event key is unique, so a duplicate
-- delivery is a no-op. The work is done by a job that asks the provider for the status.
CREATE TABLE payment_events (
    provider     text NOT NULL CHECK (provider IN ('midtrans', 'xendit')),
    event_key    text NOT NULL,
    order_id     text,
    hold_id      uuid REFERENCES payment_holds (id),
    body         jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, event_key)
);

-- The bill of a return, confirmed by staff: one capture of its total (at most the hold), the
-- rest released, anything above the hold charged by a new payment. Numbered invoice
-- INV/<branch>/<year>/<6 digits>.
CREATE TABLE charge_settlements (
    id               uuid PRIMARY KEY,
    booking_id       uuid NOT NULL UNIQUE,
    branch_id        uuid NOT NULL REFERENCES branches (id),
    hold_id          uuid REFERENCES payment_holds (id),
    total_idr        bigint NOT NULL CHECK (total_idr >= 0),
    capture_idr      bigint NOT NULL CHECK (capture_idr >= 0),
    outstanding_idr  bigint NOT NULL CHECK (outstanding_idr >= 0),
    released_idr     bigint NOT NULL CHECK (released_idr >= 0),
    -- The hold was captured whole before it lapsed (a long rental): nothing more is captured,
    -- and released_idr goes back as a refund.
    precaptured      boolean NOT NULL DEFAULT false,
    CHECK (total_idr = capture_idr + outstanding_idr),
    -- CAPTURING until the provider answered; SETTLED once the ledger has the capture.
    status           text NOT NULL CHECK (status IN ('CAPTURING', 'SETTLED')),
    invoice_number   text UNIQUE,
    object_key       text UNIQUE,
    sha256           text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    size_bytes       bigint,
    confirmed_by     uuid NOT NULL REFERENCES users (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    settled_at       timestamptz
);

CREATE TABLE charge_lines (
    id             uuid PRIMARY KEY,
    booking_id     uuid NOT NULL,
    branch_id      uuid NOT NULL REFERENCES branches (id),
    kind           text NOT NULL CHECK (kind IN ('RENTAL', 'EXTRA_DAYS', 'LATE_FEE', 'FUEL', 'DAMAGE')),
    description    text NOT NULL CHECK (length(trim(description)) BETWEEN 1 AND 200),
    amount_idr     bigint NOT NULL CHECK (amount_idr > 0),
    -- Damage: why, and the RETURN inspection that shows it.
    reason         text CHECK (length(reason) <= 500),
    inspection_id  uuid REFERENCES inspections (id),
    settlement_id  uuid REFERENCES charge_settlements (id),
    created_by     uuid NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (kind <> 'DAMAGE' OR (length(trim(coalesce(reason, ''))) > 0 AND inspection_id IS NOT NULL))
);
CREATE INDEX charge_lines_booking_idx ON charge_lines (booking_id);

-- A confirmed line never changes; a draft damage line may be deleted before confirmation.
CREATE FUNCTION charge_lines_settled_are_final() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.settlement_id IS NOT NULL THEN
        RAISE EXCEPTION 'a confirmed charge line cannot change' USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER charge_lines_settled_are_final BEFORE UPDATE OR DELETE ON charge_lines
    FOR EACH ROW EXECUTE FUNCTION charge_lines_settled_are_final();

-- A booking that ends (cancelled, lapsed, no-show: void; completed: release) asks for its live
-- holds to be let go (on completion its deposit only: a payment of the bill's remainder still
-- in progress goes on), in the same transaction as the status change whatever path changed it
-- (API, expiry sweep, a desktop's pushed operation): the hold_release job does the provider
-- call with retries, and survives restarts.
CREATE FUNCTION bookings_let_holds_go() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    wanted text;
    hold uuid;
BEGIN
    IF NEW.status = OLD.status THEN
        RETURN NULL;
    END IF;
    IF NEW.status IN ('CANCELLED', 'EXPIRED', 'NO_SHOW') THEN
        wanted := 'VOID';
    ELSIF NEW.status = 'COMPLETED' THEN
        wanted := 'RELEASE';
    ELSE
        RETURN NULL;
    END IF;
    FOR hold IN
        UPDATE payment_holds SET cancel_asked = coalesce(cancel_asked, wanted), updated_at = now()
        WHERE booking_id = NEW.id AND status IN ('PENDING', 'AUTHORISED', 'CAPTURED')
          AND (wanted = 'VOID' OR purpose = 'DEPOSIT')
        RETURNING id
    LOOP
        INSERT INTO jobs (kind, payload, run_at)
        VALUES ('hold_release', jsonb_build_object('hold_id', hold), now());
    END LOOP;
    RETURN NULL;
END;
$$;
CREATE TRIGGER bookings_let_holds_go AFTER UPDATE OF status ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_let_holds_go();

-- Each run of the daily reconciliation of the ledger with the providers, with its differences.
CREATE TABLE payment_reconciliations (
    id           bigserial PRIMARY KEY,
    ran_at       timestamptz NOT NULL DEFAULT now(),
    compared     integer NOT NULL,
    differences  jsonb NOT NULL
);
