-- One KTP verifies one account, decided by Postgres: two verified cases with the same NIK hash
-- must belong to the same customer (concurrent submissions and manual approvals included).
ALTER TABLE kyc_cases ADD CONSTRAINT kyc_cases_one_account_per_nik
    EXCLUDE USING gist (nik_hash WITH =, customer_id WITH <>) WHERE (status = 'verified');
