// Ordered webhooks and pausing on SQLite: applies planTurn (src/domain/ordering.ts) to a
// webhook's queue, and queues deliveries again under it. Every function here runs inside a
// write transaction (c.write), which serialises every change of every webhook's queue.
import { arrivesHeld, planTurn, type QueueSettings } from '../../domain/ordering.js';
import { retrySet } from '../manual-retry.js';
import type { Row } from '../rows.js';
import type { SqliteConnection } from './connection.js';

/** Brings each webhook's queue in line with planTurn; returns whether any delivery became due. */
export function settleTurns(c: SqliteConnection, webhookIds: Iterable<string>, now: number): boolean {
  const readHook = c.sql('SELECT ordering, paused, turn_seq FROM webhooks WHERE id = ?');
  const readTurn = c.sql(`SELECT status = 'pending' AND next_attempt_at IS NOT NULL FROM deliveries WHERE seq = ?`).pluck();
  const firstHeld = c.sql(`SELECT min(seq) FROM deliveries WHERE webhook_id = ? AND status = 'pending' AND next_attempt_at IS NULL`).pluck();
  let woke = false;
  for (const id of new Set(webhookIds)) {
    const w = readHook.get(id) as Row | undefined;
    if (!w) continue;
    const turnSeq = w.turn_seq == null ? null : Number(w.turn_seq);
    const step = planTurn({
      ordering: w.ordering,
      paused: w.paused === 1,
      turn: turnSeq === null ? null : { seq: turnSeq, active: readTurn.get(turnSeq) === 1 },
      firstHeld: (firstHeld.get(id) as number | null) ?? null,
    });
    if (step.turn !== undefined && step.turn !== turnSeq) c.sql('UPDATE webhooks SET turn_seq = ? WHERE id = ?').run(step.turn, id);
    if (step.wake !== null) c.markDue(now);
    if (step.wake === 'all') {
      c.sql(`UPDATE deliveries SET next_attempt_at = ? WHERE webhook_id = ? AND status = 'pending' AND next_attempt_at IS NULL`).run(now, id);
    } else if (step.wake !== null) {
      c.sql('UPDATE deliveries SET next_attempt_at = ? WHERE seq = ?').run(now, step.wake);
    }
    woke ||= step.wake !== null;
  }
  return woke;
}

/** Each webhook's ordering and pause, by id (webhooks that no longer exist are missing). */
export function queueSettings(c: SqliteConnection, webhookIds: Iterable<string>): Map<string, QueueSettings> {
  const read = c.sql('SELECT ordering, paused FROM webhooks WHERE id = ?');
  const out = new Map<string, QueueSettings>();
  for (const id of new Set(webhookIds)) {
    const row = read.get(id) as Row | undefined;
    if (row) out.set(id, { ordering: row.ordering, paused: row.paused === 1 });
  }
  return out;
}

/**
 * Queues deliveries again for a new cycle of retries (`cycleLimit` attempts; null: the
 * configured retries): due now, or held where their webhook is fifo or paused, and then
 * given their turn by planTurn; one with an attempt in flight gets its retry after that
 * attempt, keeping its turn (retrySet, src/store/manual-retry.ts). Deliveries of webhooks
 * that no longer exist are left alone.
 * Returns how many were queued.
 */
export function queueAgain(c: SqliteConnection, rows: { seq: number; webhook_id: string }[], now: number, cycleLimit: number | null): number {
  const settings = queueSettings(c, rows.map((r) => r.webhook_id));
  const update = c.sql(`UPDATE deliveries SET ${retrySet({ now: '@now', dueAt: '@due', cycleLimit: '@limit' })} WHERE seq = @seq`);
  let queued = 0;
  for (const row of rows) {
    const w = settings.get(row.webhook_id);
    if (!w) continue;
    queued += update.run({ now, due: arrivesHeld(w) ? null : now, limit: cycleLimit, seq: row.seq }).changes;
  }
  if (queued > 0) c.markDue(now);
  settleTurns(c, [...settings].filter(([, w]) => arrivesHeld(w)).map(([id]) => id), now);
  return queued;
}
