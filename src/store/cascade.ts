// What deleting a workspace or a webhook takes with it, in one place for both adapters.

/** Per-webhook state kept beside the webhook: it goes with the webhook. */
export const WEBHOOK_STATE_TABLES = ['webhook_health', 'webhook_rate'] as const;

/**
 * Deleting a workspace, children before parents: set-based deletes are cheaper than the
 * foreign keys' row-by-row cascade. `:id` stands for the workspace id (each adapter writes its
 * own placeholder); the last statement deletes the workspace, and its row count says whether
 * there was one.
 */
export const WORKSPACE_CASCADE: readonly string[] = [
  'DELETE FROM attempts WHERE delivery_seq IN (SELECT seq FROM deliveries WHERE workspace_id = :id)',
  'DELETE FROM deliveries WHERE workspace_id = :id',
  'DELETE FROM events WHERE workspace_id = :id',
  ...WEBHOOK_STATE_TABLES.map((t) => `DELETE FROM ${t} WHERE webhook_id IN (SELECT id FROM webhooks WHERE workspace_id = :id)`),
  'DELETE FROM webhooks WHERE workspace_id = :id',
  'DELETE FROM api_keys WHERE workspace_id = :id',
  'DELETE FROM portal_sessions WHERE workspace_id = :id',
  'DELETE FROM workspaces WHERE id = :id',
];

/** Deleting a webhook's own state (after its row); `:id` stands for the webhook id. */
export const WEBHOOK_CASCADE: readonly string[] = WEBHOOK_STATE_TABLES.map((t) => `DELETE FROM ${t} WHERE webhook_id = :id`);
