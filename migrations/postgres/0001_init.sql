-- Herald's first schema, the PostgreSQL twin of migrations/sqlite/0001_init.sql: the same
-- tables and column names, so that src/store/rows.ts maps the rows of both. Times are Unix
-- milliseconds in bigint. Each table has a `seq` that orders its rows (newest first in
-- lists) and serves as the paging cursor. JSON columns are `json`, not `jsonb`: Herald never
-- queries inside them, and `json` keeps the text as written (key order of samples and
-- request headers, \u0000 escapes that jsonb refuses).

CREATE TABLE workspaces (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  name text NOT NULL,
  uri text,
  webhooks_enabled boolean NOT NULL DEFAULT false,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);

CREATE TABLE api_keys (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  name text,
  key_hash text NOT NULL UNIQUE,
  created_at bigint NOT NULL,
  revoked_at bigint
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, seq);

-- seq keeps the catalog in the order it was written (SQLite lists topics by rowid).
CREATE TABLE topics (
  seq bigint GENERATED ALWAYS AS IDENTITY,
  name text PRIMARY KEY,
  label text NOT NULL,
  description text NOT NULL,
  sample json NOT NULL
);

CREATE TABLE webhooks (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  topic text NOT NULL,
  url text NOT NULL,
  secret text NOT NULL,
  prefix text NOT NULL DEFAULT '',
  filter json,
  headers json NOT NULL DEFAULT '{}',
  description text,
  enabled boolean NOT NULL DEFAULT true,
  disabled_reason text,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
CREATE INDEX webhooks_workspace_topic ON webhooks (workspace_id, topic);
CREATE INDEX webhooks_workspace ON webhooks (workspace_id, seq);

CREATE TABLE events (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL,
  workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  topic text NOT NULL,
  body text NOT NULL,
  added_fields text,
  idempotency_key text,
  deliveries integer NOT NULL DEFAULT 0,
  created_at bigint NOT NULL,
  UNIQUE (workspace_id, id)
);
CREATE INDEX events_workspace ON events (workspace_id, seq);
-- Unique, unlike SQLite's: it is what keeps two nodes from storing one key twice. An event
-- gives its key up (idempotency_key = NULL) when a new event reuses it after 24 hours.
CREATE UNIQUE INDEX events_idempotency ON events (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- A delivery is one event to one webhook, and also the queue entry: a pending delivery is
-- due at next_attempt_at; claiming it pushes next_attempt_at to the end of the lease and
-- bumps `claim`, so a crashed worker's deliveries come due again and its late results
-- (recorded with the old claim number) are ignored. No foreign key to webhooks: a deleted
-- webhook's deliveries stay, cancelled, in its history.
CREATE TABLE deliveries (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  workspace_id text NOT NULL,
  event_seq bigint NOT NULL REFERENCES events(seq) ON DELETE CASCADE,
  webhook_id text NOT NULL,
  url text NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at bigint,
  last_status_code integer,
  last_error text,
  claim integer NOT NULL DEFAULT 0,
  cycle_start integer NOT NULL DEFAULT 0,
  cycle_limit integer,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
-- The queue: only pending rows, so the index stays as small as the backlog.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_workspace ON deliveries (workspace_id, seq);
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, seq);
CREATE INDEX deliveries_event ON deliveries (event_seq);

CREATE TABLE attempts (
  delivery_seq bigint NOT NULL REFERENCES deliveries(seq) ON DELETE CASCADE,
  number integer NOT NULL,
  started_at bigint NOT NULL,
  duration_ms integer NOT NULL,
  status_code integer,
  error text,
  response_body text,
  request_headers json NOT NULL,
  PRIMARY KEY (delivery_seq, number)
);
