// Publishing on SQLite: read what planPublish needs, plan (bodies, filters, ids) without the
// write lock, then write the plan in one write transaction, unless a workspace, webhook or
// event was written on this connection meanwhile (c.planVersion): then read and plan again.
// One process owns the database, so nothing else stores events or changes the plan's inputs
// (the delivery thread's auto-disable aside: that is as a disable right after the publish).
import type { FanOutRules } from '../../domain/fan-out.js';
import { newId } from '../../domain/ids.js';
import {
  heldWebhooks, pair, planDeliveries, planPublish, publishLookups, type PlannedDelivery, type PublishPlan, type PublishState,
} from '../../domain/publish-plan.js';
import { StalePlan, withReplan } from '../replan.js';
import type { ClaimedDelivery, EventRecord, PublishBatch, PublishOutcome, ReplayWindow, Webhook, Workspace } from '../store.js';
import { rowToEvent, rowToWebhook, rowToWorkspace, type Row } from '../rows.js';
import type { SqliteConnection } from './connection.js';
import { claimedWhere } from './queue.js';
import { settleTurns } from './turn.js';

export function publish(c: SqliteConnection, rules: FanOutRules, batches: PublishBatch[], now: number): Promise<(PublishOutcome[] | null)[]> {
  return withReplan(() => {
    const version = c.planVersion;
    const plan = planPublish(batches, readState(c, batches), rules, now);
    return c.write(() => {
      if (c.planVersion !== version) throw new StalePlan();
      writePlan(c, plan, now);
      return plan.outcomes;
    });
  });
}

function readState(c: SqliteConnection, batches: PublishBatch[]): PublishState {
  const lookups = publishLookups(batches);
  const workspaces = new Map<string, Workspace>();
  const readWorkspace = c.sql('SELECT * FROM workspaces WHERE id = ?');
  for (const id of lookups.workspaceIds) {
    const row = readWorkspace.get(id) as Row | undefined;
    if (row) workspaces.set(id, rowToWorkspace(row));
  }
  const webhooks = new Map<string, Webhook[]>();
  for (const [ws, topic] of lookups.topics) {
    if (workspaces.get(ws)?.webhooksEnabled) webhooks.set(pair(ws, topic), enabledWebhooks(c, ws, topic));
  }
  const eventsById = new Map<string, EventRecord>();
  const byId = c.sql('SELECT * FROM events WHERE workspace_id = ? AND id = ?');
  for (const [ws, id] of lookups.ids) {
    const row = byId.get(ws, id) as Row | undefined;
    if (row) eventsById.set(pair(ws, id), rowToEvent(row));
  }
  const eventsByKey = new Map<string, EventRecord>();
  const byKey = c.sql('SELECT * FROM events WHERE workspace_id = ? AND idempotency_key = ? ORDER BY seq DESC LIMIT 1');
  for (const [ws, key] of lookups.keys) {
    const row = byKey.get(ws, key) as Row | undefined;
    if (row) eventsByKey.set(pair(ws, key), rowToEvent(row));
  }
  return { workspaces, webhooks, eventsById, eventsByKey };
}

export function enabledWebhooks(c: SqliteConnection, workspaceId: string, topic: string): Webhook[] {
  return (c.sql('SELECT * FROM webhooks WHERE workspace_id = ? AND topic = ? AND enabled = 1 ORDER BY seq').all(workspaceId, topic) as Row[]).map(rowToWebhook);
}

function writePlan(c: SqliteConnection, plan: PublishPlan, now: number): void {
  const release = c.sql('UPDATE events SET idempotency_key = NULL WHERE workspace_id = ? AND id = ?');
  for (const r of plan.releaseKeys) release.run(r.workspaceId, r.eventId);
  const insertEvent = c.sql(
    `INSERT INTO events (id, workspace_id, topic, body, added_fields, idempotency_key, deliveries, created_at, traceparent)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (const { event, idempotencyKey, deliveries } of plan.events) {
    const info = insertEvent.run(
      event.id, event.workspaceId, event.topic, event.body, event.addedFields.length ? event.addedFields.join(',') : null, idempotencyKey,
      event.deliveries, now, event.traceparent ?? null,
    );
    insertDeliveries(c, event.workspaceId, Number(info.lastInsertRowid), deliveries, now);
  }
  settleTurns(c, heldWebhooks(plan.events.flatMap((e) => e.deliveries)), now);
  if (plan.events.length > 0) c.planVersion++;
}

export function insertDeliveries(c: SqliteConnection, workspaceId: string, eventSeq: number, deliveries: PublishPlan['events'][number]['deliveries'], now: number): void {
  const insert = c.sql(
    `INSERT INTO deliveries (id, workspace_id, event_seq, webhook_id, url, status, next_attempt_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
  );
  for (const d of deliveries) insert.run(d.id, workspaceId, eventSeq, d.webhookId, d.url, d.held ? null : now, now, now);
  if (deliveries.length > 0) c.markDue(now);
}


export function replayEvent(c: SqliteConnection, rules: FanOutRules, workspaceId: string, id: string, now: number): Promise<number | null> {
  return withReplan(() => {
    const version = c.planVersion;
    const row = c.sql('SELECT seq, topic, body FROM events WHERE workspace_id = ? AND id = ?').get(workspaceId, id) as Row | undefined;
    if (!row) return Promise.resolve(null);
    const deliveries = planDeliveries(enabledWebhooks(c, workspaceId, row.topic), row.body, rules, () => newId('dlv', now));
    return c.write(() => {
      if (c.planVersion !== version) throw new StalePlan();
      insertDeliveries(c, workspaceId, row.seq, deliveries, now);
      c.sql('UPDATE events SET deliveries = deliveries + ? WHERE seq = ?').run(deliveries.length, row.seq);
      settleTurns(c, heldWebhooks(deliveries), now);
      return deliveries.length;
    });
  });
}

export function createTestDelivery(
  c: SqliteConnection, workspaceId: string, webhookId: string, event: EventRecord, deliveryId: string, leaseUntil: number,
): Promise<ClaimedDelivery> {
  return c.write(() => {
    const info = c.sql(
      'INSERT INTO events (id, workspace_id, topic, body, added_fields, deliveries, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)',
    ).run(event.id, workspaceId, event.topic, event.body, event.addedFields.join(',') || null, event.createdAt);
    c.planVersion++;
    const webhook = c.sql('SELECT url FROM webhooks WHERE id = ?').get(webhookId) as Row;
    c.sql(
      `INSERT INTO deliveries (id, workspace_id, event_seq, webhook_id, url, status, next_attempt_at, leased_until, claim, cycle_limit, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, 1, 1, ?, ?)`,
    ).run(deliveryId, workspaceId, Number(info.lastInsertRowid), webhookId, webhook.url, leaseUntil, leaseUntil, event.createdAt, event.createdAt);
    return claimedWhere(c, 'd.id = ?', deliveryId)[0]!;
  });
}

/** Events per write transaction of a bulk replay: each holds the write lock for a few milliseconds. */
const REPLAY_BATCH = 500;

export async function replayEvents(
  c: SqliteConnection, rules: FanOutRules, workspaceId: string, w: ReplayWindow, now: number,
): Promise<{ events: number; deliveries: number }> {
  const pick = c.sql(
    `SELECT seq, topic, body FROM events WHERE workspace_id = ? AND seq > ? AND created_at >= ? AND created_at < ? AND (? IS NULL OR topic = ?)
     ORDER BY seq LIMIT ?`,
  );
  const addCount = c.sql('UPDATE events SET deliveries = deliveries + ? WHERE seq = ?');
  const total = { events: 0, deliveries: 0 };
  let after = 0;
  for (;;) {
    // Read, matched and written under the write lock: a bounded batch, and nothing can change the webhooks meanwhile.
    const batch = await c.write(() => {
      const events = pick.all(workspaceId, after, w.since, w.until, w.topic ?? null, w.topic ?? null, REPLAY_BATCH) as Row[];
      const hooks = new Map<string, Webhook[]>();
      const queued: PlannedDelivery[] = [];
      for (const e of events) {
        let webhooks = hooks.get(e.topic);
        if (!webhooks) hooks.set(e.topic, (webhooks = enabledWebhooks(c, workspaceId, e.topic)));
        const deliveries = planDeliveries(webhooks, e.body, rules, () => newId('dlv', now));
        insertDeliveries(c, workspaceId, e.seq, deliveries, now);
        if (deliveries.length > 0) addCount.run(deliveries.length, e.seq);
        queued.push(...deliveries);
      }
      settleTurns(c, heldWebhooks(queued), now);
      return { last: events.at(-1)?.seq as number | undefined, events: events.length, deliveries: queued.length };
    });
    total.events += batch.events;
    total.deliveries += batch.deliveries;
    if (batch.events < REPLAY_BATCH || batch.last === undefined) return total;
    after = batch.last;
  }
}
