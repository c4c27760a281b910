-- Customers book a model, not a number plate (issue 9).
--
-- 1. Where each branch is, so a customer who books a SKU without naming a branch is given a unit
--    at the nearest branch that has one. Optional: a branch without a location is tried after
--    those with one.
ALTER TABLE branches
    ADD COLUMN latitude double precision CHECK (latitude BETWEEN -90 AND 90),
    ADD COLUMN longitude double precision CHECK (longitude BETWEEN -180 AND 180),
    ADD CONSTRAINT branches_location_whole CHECK ((latitude IS NULL) = (longitude IS NULL));

-- 2. The SKU-level assignment spreads wear: it reads each unit's booked days of the last 90
--    days, one range scan over the SKU's finished and running rentals.
CREATE INDEX bookings_usage_idx ON bookings USING gist (asset_id, occupied)
    WHERE status IN ('CONFIRMED', 'ACTIVE', 'RETURNED', 'COMPLETED');
