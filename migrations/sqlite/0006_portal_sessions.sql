-- Portal sessions (CONTRACT section 6): a link that opens a workspace's Webhooks page once,
-- inside the platform's own dashboard. Only hashes are kept: `token_hash` of the link's
-- token, and `session_hash` of the credential that opening it gave (set when it was opened,
-- at `used_at`). `theme` is JSON text. The twin of migrations/postgres/0006_portal_sessions.sql.
CREATE TABLE portal_sessions (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  access TEXT NOT NULL,
  theme TEXT NOT NULL DEFAULT '{}',
  token_hash TEXT NOT NULL UNIQUE,
  session_hash TEXT UNIQUE,
  expires_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX portal_sessions_workspace ON portal_sessions (workspace_id, seq);
