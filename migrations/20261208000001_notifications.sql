-- Notifications to customers and staff (WhatsApp, e-mail).
--
-- What happened is captured by triggers as a `notification_events` row, in the same transaction
-- as the change itself, with a `notification_fanout` job. The job decides, against Postgres,
-- which messages the event owes (per channel, language and the customer's choices) and writes
-- them to `notification_outbox`, each with a `notification_send` job due when it may go out.
-- One message per (idempotency key, channel): an event seen twice never sends twice.

CREATE TABLE notification_events (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('booking_pending', 'booking_confirmed',
                     'rental_started', 'waitlist_offered', 'waitlist_lapsed',
                     'deposit_captured', 'deposit_released', 'kyc_decided',
                     'processor_request')),
    customer_id  uuid REFERENCES customers (id) ON DELETE CASCADE,
    booking_id   uuid,
    -- The row the event is about, when it is not the booking: the waitlist entry, the ledger
    -- movement's hold, the verification.
    subject_id   uuid,
    ledger_id    bigint,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_events_booking_idx ON notification_events (booking_id) WHERE booking_id IS NOT NULL;

-- The customer's choices. Legally required messages go to every chosen channel whatever the
-- reminder setting; at least one channel stays chosen.
ALTER TABLE customers
    ADD COLUMN language text NOT NULL DEFAULT 'id' CHECK (language IN ('id', 'en')),
    ADD COLUMN notify_whatsapp boolean NOT NULL DEFAULT true,
    ADD COLUMN notify_email boolean NOT NULL DEFAULT true,
    ADD COLUMN notify_reminders boolean NOT NULL DEFAULT true,
    ADD CONSTRAINT customers_some_channel CHECK (notify_whatsapp OR notify_email);

-- The outbox of issue 14 (login changes) grows into every message we send.
ALTER TABLE notification_outbox
    ADD COLUMN idempotency_key text,
    ADD COLUMN event_id bigint REFERENCES notification_events (id) ON DELETE SET NULL,
    ADD COLUMN category text NOT NULL DEFAULT 'required'
        CHECK (category IN ('required', 'service', 'reminder')),
    ADD COLUMN language text NOT NULL DEFAULT 'id' CHECK (language IN ('id', 'en')),
    ADD COLUMN branch_id uuid,
    ADD COLUMN booking_id uuid,
    ADD COLUMN deliver_after timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
    ADD COLUMN attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN last_error text,
    ADD COLUMN provider_message_id text,
    -- What the provider said later (WhatsApp status webhooks): delivered, read, failed.
    ADD COLUMN delivery_status text,
    ADD COLUMN subject text,
    ADD COLUMN body text,
    ADD COLUMN body_purged_at timestamptz,
    ADD COLUMN processor_request_id uuid REFERENCES processor_requests (id),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
UPDATE notification_outbox SET idempotency_key = 'login_changed:' || id,
    status = CASE WHEN sent_at IS NULL THEN 'pending' ELSE 'sent' END;
ALTER TABLE notification_outbox ALTER COLUMN idempotency_key SET NOT NULL;
ALTER TABLE notification_outbox ADD CONSTRAINT notification_outbox_once UNIQUE (idempotency_key, channel);
-- Login-change rows written before this migration get their send job.
INSERT INTO jobs (kind, payload)
    SELECT 'notification_send', jsonb_build_object('message_id', id)
    FROM notification_outbox WHERE status = 'pending';
DROP INDEX notification_outbox_unsent_idx;
CREATE INDEX notification_outbox_problems_idx ON notification_outbox (updated_at)
    WHERE status = 'failed' OR (status IN ('pending', 'sending') AND attempts > 0);
CREATE INDEX notification_outbox_provider_idx ON notification_outbox (provider_message_id)
    WHERE provider_message_id IS NOT NULL;
CREATE INDEX notification_outbox_purge_idx ON notification_outbox (created_at)
    WHERE body_purged_at IS NULL;

-- One event and its fan-out job.
CREATE FUNCTION notification_event(kind text, customer uuid, booking uuid, subject uuid, ledger bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    event bigint;
BEGIN
    INSERT INTO notification_events (kind, customer_id, booking_id, subject_id, ledger_id)
    VALUES (kind, customer, booking, subject, ledger) RETURNING id INTO event;
    INSERT INTO jobs (kind, payload) VALUES ('notification_fanout', jsonb_build_object('event_id', event));
END;
$$;

CREATE FUNCTION bookings_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- A booking moved to another branch's partition is re-inserted: not a new event.
        IF NEW.status = 'PENDING_PAYMENT' AND NOT EXISTS (
            SELECT 1 FROM notification_events WHERE booking_id = NEW.id AND kind = 'booking_pending'
        ) THEN
            PERFORM notification_event('booking_pending', NEW.customer_id, NEW.id, NULL, NULL);
        END IF;
        RETURN NULL;
    END IF;
    IF NEW.status = OLD.status THEN
        RETURN NULL;
    END IF;
    IF NEW.status = 'CONFIRMED' THEN
        PERFORM notification_event('booking_confirmed', NEW.customer_id, NEW.id, NULL, NULL);
    ELSIF NEW.status = 'ACTIVE' THEN
        PERFORM notification_event('rental_started', NEW.customer_id, NEW.id, NULL, NULL);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER bookings_notify AFTER INSERT OR UPDATE OF status ON bookings
    FOR EACH ROW EXECUTE FUNCTION bookings_notify();

CREATE FUNCTION waitlist_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'OFFERED' AND NEW.offer_booking_id IS NOT NULL
       AND (OLD.status <> 'OFFERED' OR OLD.offer_booking_id IS DISTINCT FROM NEW.offer_booking_id) THEN
        PERFORM notification_event('waitlist_offered', NEW.customer_id, NEW.offer_booking_id, NEW.id, NULL);
    ELSIF NEW.status = 'EXPIRED' AND OLD.status = 'OFFERED' THEN
        PERFORM notification_event('waitlist_lapsed', NEW.customer_id, OLD.offer_booking_id, NEW.id, NULL);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER waitlist_notify AFTER UPDATE OF status, offer_booking_id ON waitlist
    FOR EACH ROW EXECUTE FUNCTION waitlist_notify();

CREATE FUNCTION payment_ledger_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    hold record;
BEGIN
    IF NEW.entry NOT IN ('CAPTURED', 'RELEASED', 'REFUNDED', 'VOIDED') THEN
        RETURN NULL;
    END IF;
    SELECT booking_id, customer_id, purpose INTO hold FROM payment_holds WHERE id = NEW.hold_id;
    IF hold.purpose = 'DEPOSIT' THEN
        PERFORM notification_event(
            CASE NEW.entry WHEN 'CAPTURED' THEN 'deposit_captured' ELSE 'deposit_released' END,
            hold.customer_id, hold.booking_id, NEW.hold_id, NEW.id);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER payment_ledger_notify AFTER INSERT ON payment_ledger
    FOR EACH ROW EXECUTE FUNCTION payment_ledger_notify();

CREATE FUNCTION kyc_cases_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IN ('verified', 'rejected')
       AND (TG_OP = 'INSERT' OR NEW.status <> OLD.status) THEN
        PERFORM notification_event('kyc_decided', NEW.customer_id, NULL, NEW.id, NULL);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER kyc_cases_notify AFTER INSERT OR UPDATE OF status ON kyc_cases
    FOR EACH ROW EXECUTE FUNCTION kyc_cases_notify();

-- An erasure owes the KYC processor a deletion request: it goes by e-mail to its privacy contact.
CREATE FUNCTION processor_requests_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM notification_event('processor_request', NULL, NULL, NEW.id, NULL);
    RETURN NULL;
END;
$$;
CREATE TRIGGER processor_requests_notify AFTER INSERT ON processor_requests
    FOR EACH ROW EXECUTE FUNCTION processor_requests_notify();
