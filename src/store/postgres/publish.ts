// Publishing on PostgreSQL. What planPublish needs is read first, outside any transaction
// (up to three statements: workspaces, webhooks, the events the inputs may repeat), and
// planned in memory; then one transaction writes the plan in a fixed number of
// statements, however many events and deliveries: one INSERT of all events, which first
// checks (under FOR KEY SHARE) that the workspaces and webhooks are still those planned
// with, and one INSERT of all deliveries, which also sends NOTIFY. When they changed, the
// transaction is rolled back and the publish read and planned again (StalePlan).
//
// Idempotency across nodes rests on unique indexes, not locks: (workspace_id, id), and
// (workspace_id, idempotency_key) among the events that still hold their key — a key that
// has expired is taken from its event before a new event takes it. When another node stores
// the same id or key between our read and our INSERT, the INSERT waits for its commit and
// skips the row (ON CONFLICT DO NOTHING, in the batches that carry client ids or keys); that
// input then answers with the other node's event.
import type { Pool, PoolClient } from 'pg';
import type { FanOutRules } from '../../domain/fan-out.js';
import { newId } from '../../domain/ids.js';
import {
  answerWith, heldWebhooks, pair, planDeliveries, planPublish, publishLookups, storedRepeat, type PlannedDelivery, type PlannedEvent, type PublishLookups,
  type PublishPlan, type PublishState,
} from '../../domain/publish-plan.js';
import { StalePlan, withReplan } from '../replan.js';
import type { EventRecord, PublishBatch, PublishOutcome, ReplayWindow, Webhook, Workspace } from '../store.js';
import { rowToEvent, rowToWebhook, rowToWorkspace, type Row } from '../rows.js';
import { transaction, withConnection } from './connection.js';
import { lockKeys, settleTurns, turnKeys } from './turn.js';

type Db = Pool | PoolClient;
type Tx = <T>(fn: (client: PoolClient) => Promise<T>) => Promise<T>;

export function publish(
  pool: Pool, rules: FanOutRules, batches: PublishBatch[], now: number, channel: string,
): Promise<(PublishOutcome[] | null)[]> {
  const lookups = publishLookups(batches);
  // One connection for the reads and the transaction: a checkout less per statement.
  return withConnection(pool, (client) => withReplan(async () => {
    const state = await readState(client, lookups);
    const plan = planPublish(batches, state, rules, now);
    if (plan.events.length === 0) return plan.outcomes; // only repeats, or no workspace: nothing to write
    await transaction(client, (c) => writePlan(c, lookups, state, plan, now, channel));
    return plan.outcomes;
  }));
}

async function readState(db: Db, lookups: PublishLookups): Promise<PublishState> {
  const { rows: spaces } = await db.query('SELECT * FROM workspaces WHERE id = ANY($1::text[])', [lookups.workspaceIds]);
  const workspaces = new Map<string, Workspace>(spaces.map((r: Row) => [r.id as string, rowToWorkspace(r)]));
  const topics = lookups.topics.filter(([ws]) => workspaces.get(ws)?.webhooksEnabled);
  const webhooks = new Map<string, Webhook[]>();
  if (topics.length > 0) {
    const { rows } = await db.query(
      `SELECT w.* FROM webhooks w JOIN unnest($1::text[], $2::text[]) AS k(workspace_id, topic)
         ON w.workspace_id = k.workspace_id AND w.topic = k.topic
       WHERE w.enabled ORDER BY w.seq`,
      [topics.map((t) => t[0]), topics.map((t) => t[1])],
    );
    for (const row of rows) {
      const webhook = rowToWebhook(row);
      const key = pair(webhook.workspaceId, webhook.topic);
      const group = webhooks.get(key);
      if (group) group.push(webhook);
      else webhooks.set(key, [webhook]);
    }
  }
  return { workspaces, webhooks, ...(await readEvents(db, lookups.ids, lookups.keys)) };
}

/** Stored events with these client ids and the events holding these idempotency keys, however old. */
async function readEvents(db: Db, ids: [string, string][], keys: [string, string][]): Promise<Pick<PublishState, 'eventsById' | 'eventsByKey'>> {
  const eventsById = new Map<string, EventRecord>();
  const eventsByKey = new Map<string, EventRecord>();
  if (ids.length === 0 && keys.length === 0) return { eventsById, eventsByKey };
  const { rows } = await db.query(
    `SELECT 'id' AS found_by, e.* FROM events e JOIN unnest($1::text[], $2::text[]) AS k(workspace_id, id)
       ON e.workspace_id = k.workspace_id AND e.id = k.id
     UNION ALL
     SELECT 'key', e.* FROM events e JOIN unnest($3::text[], $4::text[]) AS k(workspace_id, idempotency_key)
       ON e.workspace_id = k.workspace_id AND e.idempotency_key = k.idempotency_key`,
    [ids.map((l) => l[0]), ids.map((l) => l[1]), keys.map((l) => l[0]), keys.map((l) => l[1])],
  );
  for (const row of rows) {
    if (row.found_by === 'id') eventsById.set(pair(row.workspace_id, row.id), rowToEvent(row));
    else eventsByKey.set(pair(row.workspace_id, row.idempotency_key), rowToEvent(row));
  }
  return { eventsById, eventsByKey };
}

async function writePlan(c: PoolClient, lookups: PublishLookups, state: PublishState, plan: PublishPlan, now: number, channel: string): Promise<void> {
  if (plan.releaseKeys.length > 0) {
    // Takes expired idempotency keys from the events that hold them, for the new events to take.
    await c.query(
      `UPDATE events e SET idempotency_key = NULL FROM unnest($1::text[], $2::text[]) AS k(workspace_id, id)
       WHERE e.workspace_id = k.workspace_id AND e.id = k.id`,
      [plan.releaseKeys.map((r) => r.workspaceId), plan.releaseKeys.map((r) => r.eventId)],
    );
  }
  // Fifo and paused webhooks' turns are locked before the events get their seqs, so that
  // per webhook, seq order is commit order (and publish order).
  const held = heldWebhooks(plan.events.flatMap((p) => p.deliveries));
  await lockKeys(c, turnKeys(held));
  const seqs = await insertEvents(c, lookups, state, plan.events, now);
  const lost = plan.events.filter((p) => !seqs.has(pair(p.event.workspaceId, p.event.id)));
  if (lost.length > 0) await answerWithWinners(c, lost, now);
  const ids: string[] = [];
  const workspaceIds: string[] = [];
  const eventSeqs: number[] = [];
  const webhookIds: string[] = [];
  const urls: string[] = [];
  const helds: boolean[] = [];
  for (const { event, deliveries } of plan.events) {
    const eventSeq = seqs.get(pair(event.workspaceId, event.id));
    if (eventSeq === undefined) continue;
    for (const d of deliveries) {
      ids.push(d.id);
      workspaceIds.push(event.workspaceId);
      eventSeqs.push(eventSeq);
      webhookIds.push(d.webhookId);
      urls.push(d.url);
      helds.push(d.held);
    }
  }
  await insertDeliveries(c, [ids, workspaceIds, eventSeqs, webhookIds, urls, helds], now, channel);
  await settleTurns(c, held, now);
}


/**
 * A CTE `unchanged` (one row, column ok) that locks the enabled webhooks of the topics
 * published to (FOR KEY SHARE: a concurrent deleteWebhook waits for this commit, and then
 * cancels the deliveries made here) and says whether they and the workspaces are exactly
 * those of the plan. Its parameters start at $<from>: the [workspace, topic] pairs, the
 * webhooks' ids and versions, and the workspaces' id, name, uri, webhooks_enabled.
 */
function unchangedCte(from: number): string {
  // UNCHANGED_PARAMS parameters: p(0) … p(8).
  const p = (i: number) => `$${from + i}`;
  const expectedHooks = `SELECT * FROM unnest(${p(2)}::text[], ${p(3)}::bigint[])`;
  const expectedSpaces = `SELECT * FROM unnest(${p(4)}::text[], ${p(5)}::text[], ${p(6)}::text[], ${p(7)}::boolean[])`;
  return `hooks AS MATERIALIZED (
      SELECT w.id, w.updated_at FROM webhooks w JOIN unnest(${p(0)}::text[], ${p(1)}::text[]) AS k(workspace_id, topic)
        ON w.workspace_id = k.workspace_id AND w.topic = k.topic
      WHERE w.enabled FOR KEY SHARE OF w
    ), spaces AS MATERIALIZED (
      SELECT id, name, uri, webhooks_enabled FROM workspaces WHERE id = ANY(${p(8)}::text[])
    ), unchanged AS MATERIALIZED (
      SELECT NOT EXISTS (SELECT * FROM hooks EXCEPT ${expectedHooks}) AND NOT EXISTS (${expectedHooks} EXCEPT SELECT * FROM hooks)
         AND NOT EXISTS (SELECT * FROM spaces EXCEPT ${expectedSpaces}) AND NOT EXISTS (${expectedSpaces} EXCEPT SELECT * FROM spaces) AS ok
    )`;
}

/** How many parameters unchangedCte takes (unchangedValues gives them). */
const UNCHANGED_PARAMS = 9;

/** The values of unchangedCte: what a plan was made from. */
function unchangedValues(topics: [string, string][], hooks: readonly Webhook[], spaces: readonly Workspace[], workspaceIds: string[]): unknown[] {
  return [
    topics.map((t) => t[0]), topics.map((t) => t[1]),
    hooks.map((w) => w.id), hooks.map((w) => w.updatedAt),
    spaces.map((w) => w.id), spaces.map((w) => w.name), spaces.map((w) => w.uri), spaces.map((w) => w.webhooksEnabled),
    workspaceIds,
  ];
}

/** unchangedValues of a publish: every workspace looked up, and the webhooks of those with webhooks switched on. */
function publishChecks(lookups: PublishLookups, state: PublishState): unknown[] {
  const topics = lookups.topics.filter(([ws]) => state.workspaces.get(ws)?.webhooksEnabled);
  const hooks = topics.flatMap(([ws, topic]) => state.webhooks.get(pair(ws, topic)) ?? []);
  return unchangedValues(topics, hooks, [...state.workspaces.values()], lookups.workspaceIds);
}

/**
 * Inserts the events, skipping those another transaction stored first; returns the seq of
 * each inserted one by workspace + id. Throws StalePlan when the workspaces or webhooks changed.
 */
async function insertEvents(c: PoolClient, lookups: PublishLookups, state: PublishState, events: PlannedEvent[], now: number): Promise<Map<string, number>> {
  // Only a client's id or an idempotency key can be taken by another node meanwhile. A batch
  // of neither (Herald's own ids: 80 random bits) inserts plainly: a speculative insertion
  // costs a WAL record more per event, and a collision would fail the publish either way.
  const contested = events.some((p) => p.clientId || p.idempotencyKey !== null);
  const { rows } = await c.query({
    name: contested ? 'herald_insert_contested_events' : 'herald_insert_planned_events',
    text: `WITH ${unchangedCte(9)}, inserted AS (
             INSERT INTO events (id, workspace_id, topic, body, added_fields, idempotency_key, deliveries, traceparent, created_at)
             SELECT u.*, $8::bigint
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $${9 + UNCHANGED_PARAMS}::text[])
               AS u(id, workspace_id, topic, body, added_fields, idempotency_key, deliveries, traceparent)
             WHERE (SELECT ok FROM unchanged)
             ${contested ? 'ON CONFLICT DO NOTHING' : ''}
             RETURNING seq, workspace_id, id
           )
           SELECT (SELECT ok FROM unchanged) AS unchanged, i.seq, i.workspace_id, i.id FROM (SELECT 1) AS one LEFT JOIN inserted i ON true`,
    values: [
      events.map((p) => p.event.id),
      events.map((p) => p.event.workspaceId),
      events.map((p) => p.event.topic),
      events.map((p) => p.event.body),
      events.map((p) => (p.event.addedFields.length ? p.event.addedFields.join(',') : null)),
      events.map((p) => p.idempotencyKey),
      events.map((p) => p.event.deliveries),
      now,
      ...publishChecks(lookups, state),
      events.map((p) => p.event.traceparent ?? null),
    ],
  });
  if (!rows[0]?.unchanged) throw new StalePlan();
  return new Map(rows.filter((r: Row) => r.seq !== null).map((r: Row) => [pair(r.workspace_id, r.id), Number(r.seq)]));
}

/**
 * Events that another transaction stored first (same client id or idempotency key, committed
 * while our INSERT waited): their outcomes answer with that event, as a repeat would.
 */
async function answerWithWinners(c: PoolClient, lost: PlannedEvent[], now: number): Promise<void> {
  const winners = await readEvents(
    c,
    lost.filter((p) => p.clientId).map((p) => [p.event.workspaceId, p.event.id]),
    lost.filter((p) => p.idempotencyKey !== null).map((p) => [p.event.workspaceId, p.idempotencyKey!]),
  );
  for (const p of lost) {
    const winner = storedRepeat(winners, p.event.workspaceId, { id: p.event.id, clientId: p.clientId, idempotencyKey: p.idempotencyKey }, now);
    // Not a repeat after all (an id that collided with a stored event's): fail the publish.
    if (!winner) throw new Error(`event ${p.event.id} of workspace ${p.event.workspaceId} conflicts with a stored event`);
    answerWith(p, winner);
  }
}

/** [ids, workspace ids, event seqs, webhook ids, urls, held] of pending deliveries, one column per array. */
type DeliveryColumns = [string[], string[], number[], string[], string[], boolean[]];

/** Inserts pending deliveries due now, in one statement that also notifies the workers (on commit). */
async function insertDeliveries(c: PoolClient, columns: DeliveryColumns, now: number, channel: string): Promise<void> {
  if (columns[0].length === 0) return;
  await c.query({
    name: 'herald_insert_deliveries',
    text: `WITH inserted AS (
             INSERT INTO deliveries (id, workspace_id, event_seq, webhook_id, url, status, next_attempt_at, created_at, updated_at)
             SELECT u.id, u.workspace_id, u.event_seq, u.webhook_id, u.url, 'pending', CASE WHEN NOT u.held THEN $7::bigint END, $7, $7
             FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::boolean[])
               AS u(id, workspace_id, event_seq, webhook_id, url, held)
             RETURNING 1
           )
           SELECT pg_notify($8, '') FROM inserted LIMIT 1`,
    values: [...columns, now, channel],
  });
}

/**
 * Fans a stored event out again: read it and its topic's enabled webhooks and match them
 * outside the transaction, then insert the deliveries while the event is locked (so purge
 * passes it over) and the webhooks are checked unchanged (else plan again).
 */
export function replayEvent(
  pool: Pool, tx: Tx, rules: FanOutRules, workspaceId: string, id: string, now: number, channel: string,
): Promise<number | null> {
  return withReplan(async () => {
    const [event] = (await pool.query('SELECT topic, body FROM events WHERE workspace_id = $1 AND id = $2', [workspaceId, id])).rows;
    if (!event) return null;
    const webhooks = await enabledWebhooks(pool, workspaceId, event.topic);
    const deliveries = planDeliveries(webhooks, event.body, rules, () => newId('dlv', now));
    return tx(async (c) => {
      const held = heldWebhooks(deliveries);
      await lockKeys(c, turnKeys(held));
      const [row] = (
        await c.query(
          `WITH ${unchangedCte(3)}
           SELECT e.seq, (SELECT ok FROM unchanged) AS unchanged FROM events e WHERE e.workspace_id = $1 AND e.id = $2 FOR UPDATE OF e`,
          [workspaceId, id, ...unchangedValues([[workspaceId, event.topic]], webhooks, [], [])],
        )
      ).rows;
      if (!row) return null;
      if (!row.unchanged) throw new StalePlan();
      if (deliveries.length === 0) return 0;
      await insertDeliveries(c, deliveryColumns(workspaceId, Number(row.seq), deliveries), now, channel);
      await c.query('UPDATE events SET deliveries = deliveries + $1 WHERE seq = $2', [deliveries.length, row.seq]);
      await settleTurns(c, held, now);
      return deliveries.length;
    });
  });
}

async function enabledWebhooks(db: Db, workspaceId: string, topic: string): Promise<Webhook[]> {
  const { rows } = await db.query('SELECT * FROM webhooks WHERE workspace_id = $1 AND topic = $2 AND enabled ORDER BY seq', [workspaceId, topic]);
  return rows.map(rowToWebhook);
}

function deliveryColumns(workspaceId: string, eventSeq: number, deliveries: PlannedDelivery[]): DeliveryColumns {
  return [
    deliveries.map((d) => d.id), deliveries.map(() => workspaceId), deliveries.map(() => eventSeq), deliveries.map((d) => d.webhookId),
    deliveries.map((d) => d.url), deliveries.map((d) => d.held),
  ];
}

/** Events per transaction of a bulk replay: each holds its events' locks for a few milliseconds. */
const REPLAY_BATCH = 500;

/**
 * replayEvent for a window of events, oldest first, REPLAY_BATCH per transaction: the events
 * are locked (purge passes them over) and the workspace's enabled webhooks read under FOR
 * KEY SHARE (a concurrent delete waits, then cancels what was queued here) in the same
 * transaction, so no re-plan is needed.
 */
export async function replayEvents(
  tx: Tx, rules: FanOutRules, workspaceId: string, w: ReplayWindow, now: number, channel: string,
): Promise<{ events: number; deliveries: number }> {
  const total = { events: 0, deliveries: 0 };
  let after = 0;
  for (;;) {
    const batch = await tx(async (c) => {
      const values: unknown[] = [workspaceId, after, w.since, w.until, REPLAY_BATCH];
      const byTopic = w.topic === undefined ? '' : ` AND topic = $${values.push(w.topic)}`;
      const { rows: events } = await c.query(
        `SELECT seq, topic, body FROM events WHERE workspace_id = $1 AND seq > $2 AND created_at >= $3 AND created_at < $4${byTopic}
         ORDER BY seq LIMIT $5 FOR UPDATE`,
        values,
      );
      const topics = [...new Set(events.map((e: Row) => e.topic as string))];
      const { rows: hooks } = await c.query(
        'SELECT * FROM webhooks WHERE workspace_id = $1 AND topic = ANY($2::text[]) AND enabled ORDER BY seq FOR KEY SHARE',
        [workspaceId, topics],
      );
      const webhooks = hooks.map(rowToWebhook);
      const planned = events.map((e: Row) => ({
        seq: Number(e.seq),
        deliveries: planDeliveries(webhooks.filter((h) => h.topic === e.topic), e.body, rules, () => newId('dlv', now)),
      }));
      const all = planned.flatMap((p) => p.deliveries);
      const held = heldWebhooks(all);
      await lockKeys(c, turnKeys(held));
      const columns: DeliveryColumns = [[], [], [], [], [], []];
      for (const p of planned) deliveryColumns(workspaceId, p.seq, p.deliveries).forEach((col, i) => (columns[i] as unknown[]).push(...col));
      await insertDeliveries(c, columns, now, channel);
      const counted = planned.filter((p) => p.deliveries.length > 0);
      if (counted.length > 0) {
        await c.query(
          'UPDATE events e SET deliveries = e.deliveries + u.n FROM unnest($1::bigint[], $2::int[]) AS u(seq, n) WHERE e.seq = u.seq',
          [counted.map((p) => p.seq), counted.map((p) => p.deliveries.length)],
        );
      }
      await settleTurns(c, held, now);
      return { last: planned.at(-1)?.seq, events: events.length, deliveries: all.length };
    });
    total.events += batch.events;
    total.deliveries += batch.deliveries;
    if (batch.events < REPLAY_BATCH || batch.last === undefined) return total;
    after = batch.last;
  }
}
