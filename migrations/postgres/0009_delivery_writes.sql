-- Fewer bytes written per delivery (issue 16). The twin of migrations/sqlite/0009_delivery_writes.sql.
--
-- Attempts store their request headers compactly (src/domain/sent-headers.ts); rows written
-- before keep the full object, which reads as it is: nothing to convert.
--
-- No foreign keys from attempts to deliveries and from deliveries to events: each one cost a
-- row lock (a WAL record) and a lookup per row inserted, while the code already deletes
-- children before parents (purge, WORKSPACE_CASCADE) and inserts a delivery only beside its
-- event (publish, in one transaction) or under the event's lock (replay, which purge skips);
-- SQLite keeps them (better-sqlite3 turns foreign_keys on), where a check costs a lookup only.
ALTER TABLE attempts DROP CONSTRAINT attempts_delivery_seq_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_event_seq_fkey;

-- A delivery's row is written three times (queued, claimed, recorded): room on its page for
-- the new versions keeps them there, so each update is logged as its changed bytes only.
ALTER TABLE deliveries SET (fillfactor = 70);
