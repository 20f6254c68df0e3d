-- Readiness writes here. A read (SELECT 1) still answers on a full disk or a read-only
-- database file, where every publish fails; a small write in a transaction does not.
CREATE TABLE health_probe (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  checked_at INTEGER NOT NULL
);
