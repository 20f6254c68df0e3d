// Publishing on PostgreSQL: every batch of one publish() call in one transaction and a fixed
// number of round trips, however many events and deliveries: read the workspaces, their
// webhooks and the earlier events; decide in memory (the rules of the SQLite adapter, in the
// same order); then one INSERT of all events and one of all deliveries, which also sends
// NOTIFY.
//
// Idempotency across nodes rests on unique indexes, not locks: (workspace_id, id), and
// (workspace_id, idempotency_key) among the events that still hold their key — a key older
// than 24 h is taken from its event before a new event takes it. When another node stores
// the same id or key between our read and our INSERT, the INSERT waits for its commit and
// skips the row (ON CONFLICT DO NOTHING); that input then answers with the other node's event.
import type { PoolClient } from 'pg';
import { newId } from '../../domain/ids.js';
import type { EventRecord, FanOutPlanner, PublishBatch, PublishOutcome, Webhook, Workspace } from '../store.js';
import { rowToEvent, rowToWebhook, rowToWorkspace, type Row } from '../rows.js';

const DAY_MS = 24 * 3600 * 1000;

/** A delivery to insert. */
export interface NewDelivery {
  id: string;
  workspaceId: string;
  eventSeq: number;
  webhookId: string;
  url: string;
}

/** An event this call stores, and every outcome that answers with it. */
interface Fresh {
  event: EventRecord;
  clientId: boolean;
  idempotencyKey: string | null;
  targets: Webhook[];
  outcomes: PublishOutcome[];
}

/** What an input may repeat: its id (when the caller chose it) and its idempotency key. */
interface Lookup {
  workspaceId: string;
  id: string | null;
  key: string | null;
}

export async function publishBatches(
  client: PoolClient,
  batches: PublishBatch[],
  planner: FanOutPlanner,
  now: number,
  channel: string,
): Promise<(PublishOutcome[] | null)[]> {
  const workspaces = await readWorkspaces(client, batches);
  const webhooks = await readWebhooks(client, batches, workspaces);
  const lookups = batches.flatMap((b) =>
    b.inputs.map((i) => ({ workspaceId: b.workspaceId, id: i.clientId ? i.id : null, key: i.idempotencyKey })),
  );
  const earlier = await readEvents(client, lookups, now);

  // Decide, in order, which inputs are new and where they go.
  const byId = new Map<string, Fresh>(); // this call's events, by workspace + id
  const byKey = new Map<string, Fresh>();
  const fresh: Fresh[] = [];
  const outcomes = batches.map((batch): PublishOutcome[] | null => {
    const workspace = workspaces.get(batch.workspaceId);
    if (!workspace) return null;
    return batch.inputs.map((input) => {
      let prior: Fresh | EventRecord | undefined;
      if (input.clientId) prior = byId.get(pair(workspace.id, input.id)) ?? earlier.byId.get(pair(workspace.id, input.id));
      if (!prior && input.idempotencyKey !== null) {
        const k = pair(workspace.id, input.idempotencyKey);
        prior = byKey.get(k) ?? earlier.byKey.get(k);
      }
      if (prior && 'outcomes' in prior) {
        const outcome = { event: { ...prior.event }, created: false };
        prior.outcomes.push(outcome);
        return outcome;
      }
      if (prior) return { event: { ...prior }, created: false };
      const { body, addedFields } = planner.body(workspace, input.data);
      const candidates = workspace.webhooksEnabled ? (webhooks.get(pair(workspace.id, input.topic)) ?? []) : [];
      const targets = candidates.filter((w) => planner.matches(w, body));
      const event: EventRecord = {
        id: input.id, workspaceId: workspace.id, topic: input.topic, body, addedFields, createdAt: now, deliveries: targets.length,
      };
      const outcome = { event: { ...event }, created: true };
      const entry: Fresh = { event, clientId: input.clientId, idempotencyKey: input.idempotencyKey, targets, outcomes: [outcome] };
      byId.set(pair(workspace.id, input.id), entry);
      if (input.idempotencyKey !== null) byKey.set(pair(workspace.id, input.idempotencyKey), entry);
      fresh.push(entry);
      return outcome;
    });
  });
  if (fresh.length === 0) return outcomes;

  const expired = fresh.filter((f) => f.idempotencyKey !== null && earlier.expiredKeys.has(pair(f.event.workspaceId, f.idempotencyKey)));
  if (expired.length > 0) await releaseKeys(client, expired, now);
  const seqs = await insertEvents(client, fresh, now);
  const lost = fresh.filter((f) => !seqs.has(pair(f.event.workspaceId, f.event.id)));
  if (lost.length > 0) await answerWithWinners(client, lost, now);

  const deliveries: NewDelivery[] = [];
  for (const { event, targets } of fresh) {
    const eventSeq = seqs.get(pair(event.workspaceId, event.id));
    if (eventSeq === undefined) continue;
    for (const w of targets) deliveries.push({ id: newId('dlv', now), workspaceId: event.workspaceId, eventSeq, webhookId: w.id, url: w.url });
  }
  await insertDeliveries(client, deliveries, now, channel);
  return outcomes;
}

async function readWorkspaces(client: PoolClient, batches: PublishBatch[]): Promise<Map<string, Workspace>> {
  const ids = [...new Set(batches.map((b) => b.workspaceId))];
  const { rows } = await client.query('SELECT * FROM workspaces WHERE id = ANY($1::text[])', [ids]);
  return new Map(rows.map((r: Row) => [r.id as string, rowToWorkspace(r)]));
}

/**
 * The enabled webhooks of each (workspace, topic) published to, oldest first. FOR KEY SHARE
 * makes a concurrent deleteWebhook wait for this commit, so that it then cancels the
 * deliveries made here instead of leaving them pending for a webhook that is gone.
 */
async function readWebhooks(client: PoolClient, batches: PublishBatch[], workspaces: Map<string, Workspace>): Promise<Map<string, Webhook[]>> {
  const pairs = new Map<string, [string, string]>();
  for (const b of batches) {
    if (!workspaces.get(b.workspaceId)?.webhooksEnabled) continue;
    for (const input of b.inputs) pairs.set(pair(b.workspaceId, input.topic), [b.workspaceId, input.topic]);
  }
  const out = new Map<string, Webhook[]>();
  if (pairs.size === 0) return out;
  const list = [...pairs.values()];
  const { rows } = await client.query(
    `SELECT w.* FROM webhooks w JOIN unnest($1::text[], $2::text[]) AS k(workspace_id, topic)
       ON w.workspace_id = k.workspace_id AND w.topic = k.topic
     WHERE w.enabled ORDER BY w.seq FOR KEY SHARE OF w`,
    [list.map((p) => p[0]), list.map((p) => p[1])],
  );
  for (const row of rows) {
    const webhook = rowToWebhook(row);
    const key = pair(webhook.workspaceId, webhook.topic);
    const group = out.get(key);
    if (group) group.push(webhook);
    else out.set(key, [webhook]);
  }
  return out;
}

/**
 * Stored events with these client ids (however old) and these idempotency keys (held within
 * the last 24 h); keys still held by an older event come back in expiredKeys.
 */
async function readEvents(client: PoolClient, lookups: Lookup[], now: number) {
  const byId = new Map<string, EventRecord>();
  const byKey = new Map<string, EventRecord>();
  const expiredKeys = new Set<string>();
  const ids = lookups.filter((l) => l.id !== null);
  const keys = lookups.filter((l) => l.key !== null);
  if (ids.length === 0 && keys.length === 0) return { byId, byKey, expiredKeys };
  const { rows } = await client.query(
    `SELECT 'id' AS found_by, e.* FROM events e JOIN unnest($1::text[], $2::text[]) AS k(workspace_id, id)
       ON e.workspace_id = k.workspace_id AND e.id = k.id
     UNION ALL
     SELECT 'key', e.* FROM events e JOIN unnest($3::text[], $4::text[]) AS k(workspace_id, idempotency_key)
       ON e.workspace_id = k.workspace_id AND e.idempotency_key = k.idempotency_key`,
    [ids.map((l) => l.workspaceId), ids.map((l) => l.id), keys.map((l) => l.workspaceId), keys.map((l) => l.key)],
  );
  for (const row of rows) {
    if (row.found_by === 'id') byId.set(pair(row.workspace_id, row.id), rowToEvent(row));
    else if (Number(row.created_at) > now - DAY_MS) byKey.set(pair(row.workspace_id, row.idempotency_key), rowToEvent(row));
    else expiredKeys.add(pair(row.workspace_id, row.idempotency_key));
  }
  return { byId, byKey, expiredKeys };
}

/** Takes expired idempotency keys from the events that hold them, for new events to take. */
async function releaseKeys(client: PoolClient, entries: Fresh[], now: number): Promise<void> {
  await client.query(
    `UPDATE events e SET idempotency_key = NULL FROM unnest($1::text[], $2::text[]) AS k(workspace_id, idempotency_key)
     WHERE e.workspace_id = k.workspace_id AND e.idempotency_key = k.idempotency_key AND e.created_at <= $3`,
    [entries.map((f) => f.event.workspaceId), entries.map((f) => f.idempotencyKey), now - DAY_MS],
  );
}

/** Inserts the events, skipping those another transaction stored first; returns the seq of each inserted one by workspace + id. */
async function insertEvents(client: PoolClient, fresh: Fresh[], now: number): Promise<Map<string, number>> {
  const { rows } = await client.query({
    name: 'herald_insert_events',
    text: `INSERT INTO events (id, workspace_id, topic, body, added_fields, idempotency_key, deliveries, created_at)
           SELECT u.*, $8::bigint FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[])
             AS u(id, workspace_id, topic, body, added_fields, idempotency_key, deliveries)
           ON CONFLICT DO NOTHING
           RETURNING seq, workspace_id, id`,
    values: [
      fresh.map((f) => f.event.id),
      fresh.map((f) => f.event.workspaceId),
      fresh.map((f) => f.event.topic),
      fresh.map((f) => f.event.body),
      fresh.map((f) => (f.event.addedFields.length ? f.event.addedFields.join(',') : null)),
      fresh.map((f) => f.idempotencyKey),
      fresh.map((f) => f.event.deliveries),
      now,
    ],
  });
  return new Map(rows.map((r: Row) => [pair(r.workspace_id, r.id), Number(r.seq)]));
}

/**
 * Events that another transaction stored first (same client id or idempotency key, committed
 * while our INSERT waited): their outcomes answer with that event, as a repeat would.
 */
async function answerWithWinners(client: PoolClient, lost: Fresh[], now: number): Promise<void> {
  const winners = await readEvents(
    client,
    lost.map((f) => ({ workspaceId: f.event.workspaceId, id: f.clientId ? f.event.id : null, key: f.idempotencyKey })),
    now,
  );
  for (const f of lost) {
    const ws = f.event.workspaceId;
    const winner =
      (f.clientId ? winners.byId.get(pair(ws, f.event.id)) : undefined) ??
      (f.idempotencyKey !== null ? winners.byKey.get(pair(ws, f.idempotencyKey)) : undefined);
    // Not a repeat after all (an id that collided with a stored event's): fail the publish.
    if (!winner) throw new Error(`event ${f.event.id} of workspace ${ws} conflicts with a stored event`);
    for (const outcome of f.outcomes) {
      outcome.event = { ...winner };
      outcome.created = false;
    }
  }
}

/** Inserts pending deliveries due now, in one statement that also notifies the workers (on commit). */
export async function insertDeliveries(client: PoolClient, deliveries: NewDelivery[], now: number, channel: string): Promise<void> {
  if (deliveries.length === 0) return;
  await client.query({
    name: 'herald_insert_deliveries',
    text: `WITH inserted AS (
             INSERT INTO deliveries (id, workspace_id, event_seq, webhook_id, url, status, next_attempt_at, created_at, updated_at)
             SELECT u.id, u.workspace_id, u.event_seq, u.webhook_id, u.url, 'pending', $6, $6, $6
             FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[]) AS u(id, workspace_id, event_seq, webhook_id, url)
             RETURNING 1
           )
           SELECT pg_notify($7, '') FROM inserted LIMIT 1`,
    values: [
      deliveries.map((d) => d.id),
      deliveries.map((d) => d.workspaceId),
      deliveries.map((d) => d.eventSeq),
      deliveries.map((d) => d.webhookId),
      deliveries.map((d) => d.url),
      now,
      channel,
    ],
  });
}

/** A map key for two strings; \n cannot occur in ids, topics or header values. */
function pair(a: string, b: string): string {
  return `${a}\n${b}`;
}
