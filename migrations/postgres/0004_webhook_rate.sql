-- Per-webhook rate limits shared by every worker (src/domain/rate.ts): one row per webhook
-- that has sent under a rate_limit. `tat` is GCRA's theoretical arrival time (fractional
-- milliseconds); `granted` is what the last call was given, kept so that the one atomic
-- INSERT … ON CONFLICT DO UPDATE that takes sends can also return it.
-- UNLOGGED: the rows only say what was sent in the last second, so they are not worth a WAL
-- flush on every claim; a server crash empties the table, which costs at most one burst.
-- The twin of migrations/sqlite/0004_webhook_rate.sql.
CREATE UNLOGGED TABLE webhook_rate (
  webhook_id text PRIMARY KEY,
  tat double precision NOT NULL,
  granted integer NOT NULL,
  updated_at bigint NOT NULL
);
