-- Per-webhook rate limit, secrets still valid during a rotation, and the receiver's health
-- (circuit breaker and auto-disable), kept in the database so every worker sees the same.
-- The twin of migrations/sqlite/0002_reliability.sql.

ALTER TABLE webhooks ADD COLUMN rate_limit integer;
ALTER TABLE webhooks ADD COLUMN previous_secrets json;

-- A row only while a webhook is failing: a success deletes it.
CREATE TABLE webhook_health (
  webhook_id text PRIMARY KEY,
  consecutive_failures integer NOT NULL,
  failing_since bigint,
  open_until bigint,
  updated_at bigint NOT NULL
);
