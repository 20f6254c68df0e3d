-- Issue 14: Ed25519 signing, topic schemas and traces. The twin of
-- migrations/sqlite/0007_signatures_schemas_traces.sql, which says what each column holds.
ALTER TABLE webhooks ADD COLUMN signing text NOT NULL DEFAULT 'hmac';
ALTER TABLE webhooks ADD COLUMN signing_key text;
ALTER TABLE webhooks ADD COLUMN public_key text;
ALTER TABLE webhooks ADD COLUMN previous_signing_keys json;

ALTER TABLE topics ADD COLUMN schema json;
ALTER TABLE topics ADD COLUMN schema_version integer NOT NULL DEFAULT 0;

ALTER TABLE events ADD COLUMN traceparent text;
