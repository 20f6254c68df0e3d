-- Ordered webhooks and pausing (src/domain/ordering.ts). `ordering` is 'none' or 'fifo';
-- `paused` keeps queueing without sending; `turn_seq` is the delivery that holds a fifo
-- webhook's turn (the one being sent or waiting for its retry), null when none does.
-- A pending delivery with next_attempt_at NULL is "held": waiting for its turn or for the
-- resume. Held rows stay out of the due index's range, so they cost the claim nothing;
-- the partial index below finds a webhook's first held delivery, and only held rows are in it.
ALTER TABLE webhooks ADD COLUMN ordering TEXT NOT NULL DEFAULT 'none';
ALTER TABLE webhooks ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN turn_seq INTEGER;
CREATE INDEX deliveries_held ON deliveries (webhook_id, seq) WHERE status = 'pending' AND next_attempt_at IS NULL;
