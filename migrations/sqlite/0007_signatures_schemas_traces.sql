-- Issue 14: Ed25519 signing, topic schemas and traces.
-- A webhook's signing scheme ('hmac' or 'ed25519'); for ed25519, its current private key
-- (whsk_…, sealed like `secret`: encrypted when HERALD_ENCRYPTION_KEY is set), its public key
-- (whpk_…, not secret), and the private keys of a rotation that still sign until their grace
-- period ends (JSON [{private_key, expires_at}], each sealed like the current one).
ALTER TABLE webhooks ADD COLUMN signing TEXT NOT NULL DEFAULT 'hmac';
ALTER TABLE webhooks ADD COLUMN signing_key TEXT;
ALTER TABLE webhooks ADD COLUMN public_key TEXT;
ALTER TABLE webhooks ADD COLUMN previous_signing_keys TEXT;

-- A topic's JSON Schema (draft 2020-12) for its events' data, or NULL; schema_version moves on
-- every change so that compiled validators (cached per topic and version) are replaced.
ALTER TABLE topics ADD COLUMN schema TEXT;
ALTER TABLE topics ADD COLUMN schema_version INTEGER NOT NULL DEFAULT 0;

-- The W3C traceparent a publish came with (normalised), or NULL.
ALTER TABLE events ADD COLUMN traceparent TEXT;
