// Ordered webhooks and pausing on PostgreSQL: applies planTurn (src/domain/ordering.ts) to
// webhooks' queues, and queues deliveries again under it. Every change of a webhook's queue
// (publish and replay to a fifo or paused webhook, recording a fifo delivery, a retry, a
// pause, a resume, an ordering change, holding a paused webhook's claim) runs in a
// transaction that first takes the webhook's advisory lock ('herald.turn'), so they are
// serialised per webhook across every node: each statement after the lock sees what the
// others committed, and a webhook's fifo turn is never given twice.
import type { PoolClient } from 'pg';
import { arrivesHeld, planTurn, type QueueSettings } from '../../domain/ordering.js';
import { retrySet } from '../manual-retry.js';
import type { Row } from '../rows.js';
import { advisoryKeys } from './connection.js';

/** The advisory keys of these webhooks' queues. */
export function turnKeys(webhookIds: Iterable<string>): string[] {
  return advisoryKeys('herald.turn', webhookIds);
}

/** Takes advisory locks (until the transaction ends) in ascending key order, so that lockers cannot deadlock on them. */
export async function lockKeys(c: PoolClient, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  const sorted = [...new Set(keys)].map(BigInt).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(String);
  await c.query('SELECT count(*) FROM unnest($1::bigint[]) AS k, LATERAL pg_advisory_xact_lock(k)', [sorted]);
}

/** Each webhook's ordering and pause, by id (webhooks that no longer exist are missing). */
export async function queueSettings(c: PoolClient, webhookIds: string[]): Promise<Map<string, QueueSettings>> {
  const { rows } = await c.query('SELECT id, ordering, paused FROM webhooks WHERE id = ANY($1::text[])', [webhookIds]);
  return new Map(rows.map((r: Row) => [r.id as string, { ordering: r.ordering, paused: r.paused }]));
}

/**
 * Brings each webhook's queue in line with planTurn (the caller holds their turn locks);
 * returns whether any delivery became due now.
 */
export async function settleTurns(c: PoolClient, webhookIds: string[], now: number): Promise<boolean> {
  if (webhookIds.length === 0) return false;
  const { rows } = await c.query(
    `SELECT w.id, w.ordering, w.paused, w.turn_seq,
       (SELECT d.status = 'pending' AND d.next_attempt_at IS NOT NULL FROM deliveries d WHERE d.seq = w.turn_seq) AS turn_active,
       (SELECT min(d.seq) FROM deliveries d WHERE d.webhook_id = w.id AND d.status = 'pending' AND d.next_attempt_at IS NULL) AS first_held
     FROM webhooks w WHERE w.id = ANY($1::text[])`,
    [[...new Set(webhookIds)]],
  );
  const turns: [string, number | null][] = [];
  const wakeAll: string[] = [];
  const wakeOne: number[] = [];
  for (const w of rows) {
    const turnSeq = w.turn_seq == null ? null : Number(w.turn_seq);
    const step = planTurn({
      ordering: w.ordering,
      paused: w.paused,
      turn: turnSeq === null ? null : { seq: turnSeq, active: w.turn_active === true },
      firstHeld: w.first_held == null ? null : Number(w.first_held),
    });
    if (step.turn !== undefined && step.turn !== turnSeq) turns.push([w.id, step.turn]);
    if (step.wake === 'all') wakeAll.push(w.id);
    else if (step.wake !== null) wakeOne.push(step.wake);
  }
  if (turns.length > 0) {
    await c.query(
      'UPDATE webhooks w SET turn_seq = u.seq FROM unnest($1::text[], $2::bigint[]) AS u(id, seq) WHERE w.id = u.id',
      [turns.map((t) => t[0]), turns.map((t) => t[1])],
    );
  }
  if (wakeAll.length > 0) {
    await c.query(
      `UPDATE deliveries SET next_attempt_at = $2 WHERE webhook_id = ANY($1::text[]) AND status = 'pending' AND next_attempt_at IS NULL`,
      [wakeAll, now],
    );
  }
  if (wakeOne.length > 0) await c.query('UPDATE deliveries SET next_attempt_at = $2 WHERE seq = ANY($1::bigint[])', [wakeOne, now]);
  return wakeAll.length + wakeOne.length > 0;
}

/**
 * Queues deliveries again for a new cycle of retries (`cycleLimit` attempts; null: the
 * configured retries), if they still have `status` (any, when null): due now, or held where
 * their webhook is fifo or paused and then given their turn; one with an attempt in flight
 * gets its retry after that attempt, keeping its turn (retrySet, src/store/manual-retry.ts).
 * Deliveries of webhooks that no longer exist are left alone. Sends NOTIFY when something is
 * due now. Returns how many.
 */
export async function queueAgain(
  c: PoolClient, rows: { seq: number; webhook_id: string }[], status: string | null, now: number, cycleLimit: number | null, channel: string,
): Promise<number> {
  if (rows.length === 0) return 0;
  const ids = [...new Set(rows.map((r) => r.webhook_id))];
  await lockKeys(c, turnKeys(ids));
  const settings = await queueSettings(c, ids);
  const kept = rows.filter((r) => settings.has(r.webhook_id));
  const due = kept.map((r) => !arrivesHeld(settings.get(r.webhook_id)!));
  const { rowCount } = await c.query(
    `UPDATE deliveries d SET ${retrySet({ now: '$3::bigint', dueAt: 'CASE WHEN u.due THEN $3::bigint END', cycleLimit: '$4::int' })}
     FROM unnest($1::bigint[], $2::boolean[]) AS u(seq, due) WHERE d.seq = u.seq AND ($5::text IS NULL OR d.status = $5)`,
    [kept.map((r) => r.seq), due, now, cycleLimit, status],
  );
  const woke = await settleTurns(c, ids.filter((id) => arrivesHeld(settings.get(id) ?? { ordering: 'none', paused: false })), now);
  if (due.some(Boolean) || woke) await c.query('SELECT pg_notify($1, $2)', [channel, '']);
  return rowCount ?? 0;
}
