-- Portal sessions (CONTRACT section 6): a link that opens a workspace's Webhooks page once,
-- inside the platform's own dashboard. Only hashes are kept: `token_hash` of the link's
-- token, and `session_hash` of the credential that opening it gave (set when it was opened,
-- at `used_at`). The twin of migrations/sqlite/0006_portal_sessions.sql.
CREATE TABLE portal_sessions (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
  access text NOT NULL,
  theme json NOT NULL DEFAULT '{}',
  token_hash text NOT NULL UNIQUE,
  session_hash text UNIQUE,
  expires_at bigint NOT NULL,
  created_at bigint NOT NULL,
  used_at bigint,
  revoked_at bigint
);
CREATE INDEX portal_sessions_workspace ON portal_sessions (workspace_id, seq);
