-- Webhooks held back as a whole (src/delivery/limits.ts: a suspect webhook that may not take
-- another attempt for a while): until when, and for how long each time (`span`, ms). The
-- claim (claimDue, src/store/sqlite/queue.ts) claims none of a held webhook's deliveries —
-- also those queued after the hold began — and moves those it passes to the hold's end. Once
-- the hold has run out, one claim takes a single delivery of the webhook (a probe) and holds
-- it again for another span. A successful attempt lifts the hold (deletes the row).
-- The twin of migrations/postgres/0010_webhook_holds.sql.
CREATE TABLE webhook_holds (
  webhook_id TEXT PRIMARY KEY,
  until INTEGER NOT NULL,
  span INTEGER NOT NULL
);
