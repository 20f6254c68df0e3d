-- Fewer bytes written per delivery (issue 16). The twin of migrations/postgres/0009_delivery_writes.sql,
-- with nothing to change here:
-- - attempts store their request headers compactly (src/domain/sent-headers.ts); rows written
--   before keep the full object, which reads as it is;
-- - the foreign keys PostgreSQL drops (attempts → deliveries, deliveries → events) were never
--   enforced on SQLite (foreign_keys is off): the code deletes children before parents;
-- - a row's updates stay on its page anyway (SQLite rewrites the page, it keeps no versions).
SELECT 1;
