-- Per-webhook rate limit, secrets still valid during a rotation, and the receiver's health
-- (circuit breaker and auto-disable), kept in the database so every worker sees the same.

ALTER TABLE webhooks ADD COLUMN rate_limit INTEGER;
ALTER TABLE webhooks ADD COLUMN previous_secrets TEXT;

-- A row only while a webhook is failing: a success deletes it.
CREATE TABLE webhook_health (
  webhook_id TEXT PRIMARY KEY,
  consecutive_failures INTEGER NOT NULL,
  failing_since INTEGER,
  open_until INTEGER,
  updated_at INTEGER NOT NULL
);
