-- Webhooks held back as a whole (src/delivery/limits.ts: a suspect webhook that may not take
-- another attempt for a while): until when, and for how long each time (`span`, ms). The
-- claim (claimDue, src/store/postgres/queue.ts) claims none of a held webhook's deliveries —
-- also those queued after the hold began — and moves those it passes to the hold's end. Once
-- the hold has run out, one claim takes a single delivery of the webhook (a probe) and holds
-- it again for another span, so that what piled up behind a hanging receiver is not claimed
-- and given back again at every hold's end. A successful attempt lifts the hold (deletes the
-- row); the worker that meets the webhook again holds it anew when it must.
-- UNLOGGED: a hold is a guess about the next seconds; a server crash that empties the table
-- costs a few more probes. The twin of migrations/sqlite/0010_webhook_holds.sql.
CREATE UNLOGGED TABLE webhook_holds (
  webhook_id text PRIMARY KEY,
  until bigint NOT NULL,
  span bigint NOT NULL
);
