-- Fewer bytes written per delivery (issue 16). The twin of migrations/postgres/0009_delivery_writes.sql,
-- with nothing to change here:
-- - attempts store their request headers compactly (src/domain/sent-headers.ts); rows written
--   before keep the full object, which reads as it is;
-- - the foreign keys PostgreSQL drops (attempts → deliveries, deliveries → events) stay here:
--   better-sqlite3 turns foreign_keys on, and each check is a lookup of a parent row the same
--   write has just read or written (the code deletes children before parents all the same);
-- - a row's updates stay on its page anyway (SQLite rewrites the page, it keeps no versions).
SELECT 1;
