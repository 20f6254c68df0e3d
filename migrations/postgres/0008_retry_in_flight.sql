-- A manual retry asked for while an attempt is in flight is made after that attempt
-- (src/store/manual-retry.ts): `leased_until` is the lease of the claim in flight (set when
-- claimed, cleared when its result is recorded or the claim is given back), and
-- `retry_requested` says a retry was asked for during it. Rows claimed before this migration
-- have no lease recorded: a retry of one is due at once, as before.
-- The twin of migrations/sqlite/0008_retry_in_flight.sql.
ALTER TABLE deliveries ADD COLUMN leased_until bigint, ADD COLUMN retry_requested boolean NOT NULL DEFAULT false;
