-- Per-webhook rate limits (src/domain/rate.ts): one row per webhook that has sent under a
-- rate_limit. `tat` is GCRA's theoretical arrival time (fractional milliseconds); `granted`
-- is what the last call was given. The same table as on PostgreSQL, where several workers
-- share it; here one process owns the database, and keeping the state in it still makes
-- the limit hold across a restart.
CREATE TABLE webhook_rate (
  webhook_id TEXT PRIMARY KEY,
  tat REAL NOT NULL,
  granted INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
