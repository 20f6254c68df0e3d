-- Herald's first schema. Times are Unix milliseconds. Each table has an integer `seq` that
-- orders its rows (newest first in lists) and serves as the paging cursor.

CREATE TABLE workspaces (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  uri TEXT,
  webhooks_enabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  name TEXT,
  key_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, seq);

CREATE TABLE topics (
  name TEXT PRIMARY KEY,
  label TEXT NOT NULL,
  description TEXT NOT NULL,
  sample TEXT NOT NULL
);

CREATE TABLE webhooks (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  topic TEXT NOT NULL,
  url TEXT NOT NULL,
  secret TEXT NOT NULL,
  prefix TEXT NOT NULL DEFAULT '',
  filter TEXT,
  headers TEXT NOT NULL DEFAULT '{}',
  description TEXT,
  enabled INTEGER NOT NULL DEFAULT 1,
  disabled_reason TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX webhooks_workspace_topic ON webhooks (workspace_id, topic);

CREATE TABLE events (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  topic TEXT NOT NULL,
  body TEXT NOT NULL,
  added_fields TEXT,
  idempotency_key TEXT,
  deliveries INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  UNIQUE (workspace_id, id)
);
CREATE INDEX events_workspace ON events (workspace_id, seq);
CREATE INDEX events_idempotency ON events (workspace_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- A delivery is one event to one webhook, and also the queue entry: a pending delivery is
-- due at next_attempt_at; claiming it pushes next_attempt_at to the end of the lease and
-- bumps `claim`, so a crashed worker's deliveries come due again and its late results
-- (recorded with the old claim number) are ignored.
CREATE TABLE deliveries (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  workspace_id TEXT NOT NULL,
  event_seq INTEGER NOT NULL REFERENCES events(seq) ON DELETE CASCADE,
  webhook_id TEXT NOT NULL,
  url TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  last_status_code INTEGER,
  last_error TEXT,
  claim INTEGER NOT NULL DEFAULT 0,
  cycle_start INTEGER NOT NULL DEFAULT 0,
  cycle_limit INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_workspace ON deliveries (workspace_id, seq);
CREATE INDEX deliveries_webhook ON deliveries (webhook_id, seq);
CREATE INDEX deliveries_event ON deliveries (event_seq);

CREATE TABLE attempts (
  delivery_seq INTEGER NOT NULL REFERENCES deliveries(seq) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  status_code INTEGER,
  error TEXT,
  response_body TEXT,
  request_headers TEXT NOT NULL,
  PRIMARY KEY (delivery_seq, number)
) WITHOUT ROWID;
