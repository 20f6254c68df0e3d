-- Readiness writes here. A read (SELECT 1) still answers on a read-only server (a standby
-- after a bad failover, a full disk), where every publish fails; a small write does not.
-- The twin of migrations/sqlite/0003_health_probe.sql.
CREATE TABLE health_probe (
  id integer PRIMARY KEY CHECK (id = 1),
  checked_at bigint NOT NULL
);
