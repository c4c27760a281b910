-- Branches, staff users, customers, SKUs and assets: the inventory every booking refers to.

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE branches (
    id          uuid PRIMARY KEY,
    -- Short code staff use on paper and in partition names' comments (JKT01, DPS01).
    code        text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9]{2,12}$'),
    name        text NOT NULL CHECK (length(trim(name)) > 0),
    address     text NOT NULL DEFAULT '',
    -- Indonesian zones only (no DST): WIB, WITA, WIT. Booking days are local dates of this zone.
    time_zone   text NOT NULL CHECK (time_zone IN ('Asia/Jakarta', 'Asia/Makassar', 'Asia/Jayapura')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id             uuid PRIMARY KEY,
    email          text NOT NULL UNIQUE CHECK (email = lower(email) AND position('@' IN email) > 1),
    display_name   text NOT NULL,
    password_hash  text NOT NULL,
    role           text NOT NULL CHECK (role IN ('inspector', 'branch_admin', 'hq_admin')),
    disabled_at    timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Staff belong to one or more branches; hq_admin sees all branches regardless.
CREATE TABLE user_branches (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    branch_id  uuid NOT NULL REFERENCES branches (id),
    PRIMARY KEY (user_id, branch_id)
);

CREATE TABLE customers (
    id               uuid PRIMARY KEY,
    full_name        text NOT NULL CHECK (length(trim(full_name)) > 0),
    phone            text UNIQUE CHECK (phone ~ '^\+62[0-9]{8,13}$'),
    email            text UNIQUE CHECK (email = lower(email)),
    membership_tier  text NOT NULL DEFAULT 'regular'
                     CHECK (membership_tier IN ('regular', 'silver', 'gold', 'platinum')),
    kyc_status       text NOT NULL DEFAULT 'unverified'
                     CHECK (kyc_status IN ('unverified', 'pending', 'verified', 'rejected')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (phone IS NOT NULL OR email IS NOT NULL)
);

CREATE TABLE skus (
    id                      uuid PRIMARY KEY,
    code                    text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9-]{2,32}$'),
    name                    text NOT NULL,
    category                text NOT NULL CHECK (category IN ('car', 'motorbike', 'equipment')),
    -- Money is integer Rupiah everywhere.
    daily_rate_idr          bigint NOT NULL CHECK (daily_rate_idr > 0),
    deposit_idr             bigint NOT NULL DEFAULT 0 CHECK (deposit_idr >= 0),
    -- Days an asset stays blocked after a rental for cleaning/inspection.
    turnaround_buffer_days  integer NOT NULL DEFAULT 0 CHECK (turnaround_buffer_days BETWEEN 0 AND 14),
    created_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE assets (
    id               uuid PRIMARY KEY,
    sku_id           uuid NOT NULL REFERENCES skus (id),
    home_branch_id   uuid NOT NULL REFERENCES branches (id),
    -- Number plate for vehicles (B 1234 XYZ), serial number for equipment.
    plate_or_serial  text NOT NULL UNIQUE CHECK (length(trim(plate_or_serial)) > 0),
    status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'maintenance', 'retired')),
    odometer_km      integer CHECK (odometer_km >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- Target of the bookings foreign key, which pins each booking to its asset's home branch.
    UNIQUE (home_branch_id, id)
);
CREATE INDEX assets_sku_idx ON assets (sku_id);
