// The delivery queue on PostgreSQL: claim, record, release, purge. Each operation is one
// statement over unnest() arrays (or a short transaction), whatever the batch size.
//
// A pending delivery is due at next_attempt_at. Claiming sets a lease (leased_until, which
// keeps the delivery from other claims until it ends) and bumps `claim`; a result is recorded
// only under the claim it was taken with, so a worker that lost its lease (crashed, stalled)
// cannot overwrite a newer attempt.
import type { Pool, PoolClient } from 'pg';
import { appliedEffects, healthOutcomes, planHealth, type HealthEffect, type HealthPolicy, type WebhookHealth } from '../../domain/health.js';
import { holdsClaim } from '../../domain/ordering.js';
import { storedHeaders } from '../../domain/sent-headers.js';
import type { AttemptResult, ClaimedDelivery, EventRecord, RetryWindow } from '../store.js';
import { claimedColumns, rowToClaimed, rowToHealth, type Row } from '../rows.js';
import { advisoryKeys } from './connection.js';
import { claimable, claimSet, DUE_LOOKAHEAD, unlessManualRetry, dueAt, holdSet, NEXT_DUE, nextDueFrom, notManualRetry, recordSet, releaseSet } from '../manual-retry.js';
import { lockKeys, queueAgain, queueSettings, settleTurns, turnKeys } from './turn.js';

type Db = Pool | PoolClient;
type Tx = <T>(fn: (client: PoolClient) => Promise<T>) => Promise<T>;

/** The columns rowToClaimed reads, from deliveries d ⋈ events e ⋈ webhooks w ⟕ webhook_health h. */
const CLAIMED_COLUMNS = claimedColumns(['d', 'e', 'w', 'h']);
const CLAIMED_JOINS = 'JOIN webhooks w ON w.id = d.webhook_id LEFT JOIN webhook_health h ON h.webhook_id = d.webhook_id';

/**
 * Claims up to `limit` due deliveries, earliest first, in one statement. SKIP LOCKED: claimers
 * on other connections pass over the rows this one is taking instead of waiting for them, so
 * each delivery goes to exactly one of them. Deliveries of `skipWebhooks` are passed over.
 */
export async function claimDue(db: Db, now: number, limit: number, leaseUntil: number, skipWebhooks: readonly string[] = []): Promise<ClaimedDelivery[]> {
  const skipping = skipWebhooks.length > 0;
  const { rows } = await db.query({
    // Passing over webhooks is planned each time (an unnamed statement), with the list as a
    // constant: PostgreSQL then looks each row's webhook up in a hash of the list instead of
    // comparing it with every entry.
    ...(skipping ? {} : { name: 'herald_claim_due' }),
    text: claimStatement(
      `SELECT seq, next_attempt_at AS due_at FROM deliveries
       WHERE status = 'pending' AND ${claimable('$1')}${skipping ? ` AND ${unlessManualRetry('webhook_id <> ALL($4::text[])')}` : ''}
       ORDER BY next_attempt_at LIMIT $2
       FOR UPDATE SKIP LOCKED`,
    ),
    values: skipping ? [now, limit, leaseUntil, skipWebhooks] : [now, limit, leaseUntil],
  });
  return rows.map(rowToClaimed);
}

/**
 * Claims the earliest due delivery of each webhook (Store.claimFirstDue). The candidates are
 * read off the due index, earliest first (as a claim reads them: never a walk through a
 * webhook's history), and the first of each webhook is taken.
 */
export async function claimFirstDue(db: Db, now: number, webhookIds: readonly string[], leaseUntil: number): Promise<ClaimedDelivery[]> {
  const { rows } = await db.query(
    claimStatement(
      `SELECT seq, next_attempt_at AS due_at FROM deliveries
       WHERE seq IN (
         SELECT seq FROM (
           SELECT seq, row_number() OVER (PARTITION BY webhook_id ORDER BY next_attempt_at, seq) AS nth
           FROM (SELECT seq, webhook_id, next_attempt_at FROM deliveries
                 WHERE status = 'pending' AND ${claimable('$1')} AND webhook_id = ANY($2::text[])
                 ORDER BY next_attempt_at LIMIT ${DUE_LOOKAHEAD}) AS candidate
         ) AS ranked WHERE nth = 1)
       AND status = 'pending' AND ${claimable('$1')}
       FOR UPDATE SKIP LOCKED`,
    ),
    [now, webhookIds, leaseUntil],
  );
  return rows.map(rowToClaimed);
}


/**
 * The claim of the deliveries that `due` selects (seq, due_at; locked FOR UPDATE SKIP LOCKED):
 * leased until $3, in one statement, read back with their events and webhooks.
 */
function claimStatement(due: string): string {
  return `WITH due AS MATERIALIZED (${due}), d AS (
            UPDATE deliveries SET claim = deliveries.claim + 1, ${claimSet('$3')}
            FROM due WHERE deliveries.seq = due.seq
            RETURNING deliveries.*, due.due_at
          )
          SELECT ${CLAIMED_COLUMNS} FROM d JOIN events e ON e.seq = d.event_seq ${CLAIMED_JOINS}
          ORDER BY d.due_at, d.seq`;
}

/** An event and its delivery, already claimed (claim 1, one attempt allowed), for a test send. */
export async function createTestDelivery(
  c: PoolClient, workspaceId: string, webhookId: string, event: EventRecord, deliveryId: string, leaseUntil: number,
): Promise<ClaimedDelivery> {
  const [row] = (
    await c.query(
      `WITH e AS (
         INSERT INTO events (id, workspace_id, topic, body, added_fields, deliveries, created_at)
         VALUES ($1, $2, $3, $4, $5, 1, $6) RETURNING seq, id, topic, body, traceparent
       ), d AS (
         INSERT INTO deliveries (id, workspace_id, event_seq, webhook_id, url, status, next_attempt_at, leased_until, claim, cycle_limit, created_at, updated_at)
         SELECT $7, $2, e.seq, w.id, w.url, 'pending', $8, $8, 1, 1, $6, $6 FROM e, webhooks w WHERE w.workspace_id = $2 AND w.id = $9
         RETURNING *
       )
       SELECT ${CLAIMED_COLUMNS} FROM d JOIN e ON e.seq = d.event_seq ${CLAIMED_JOINS}`,
      [event.id, workspaceId, event.topic, event.body, event.addedFields.join(',') || null, event.createdAt, deliveryId, leaseUntil, webhookId],
    )
  ).rows;
  // Thrown inside the caller's transaction, so the event goes too.
  if (!row) throw new Error(`webhook ${webhookId} of workspace ${workspaceId} does not exist`);
  return rowToClaimed(row);
}

export async function queueStats(db: Db, now: number): Promise<{ pending: number; oldestDueAt: number | null }> {
  const [row] = (
    await db.query(
      `SELECT count(*) AS pending, min(${dueAt()}) FILTER (WHERE ${dueAt()} <= $1) AS oldest
       FROM deliveries WHERE status = 'pending'`,
      [now],
    )
  ).rows;
  return { pending: Number(row.pending), oldestDueAt: row.oldest == null ? null : Number(row.oldest) };
}

export async function nextDueAt(db: Db): Promise<number | null> {
  return nextDueFrom((await db.query(NEXT_DUE)).rows[0]);
}

/**
 * Runs `UPDATE deliveries … ` (without RETURNING) and, when it changed rows and `channel` is
 * given, sends NOTIFY on it (delivered at commit), in one statement. Returns how many rows changed.
 */
export async function requeue(db: Db, update: string, values: unknown[], channel: string | null): Promise<number> {
  if (channel === null) return (await db.query(update, values)).rowCount ?? 0;
  const [row] = (
    await db.query(
      `WITH changed AS (${update} RETURNING 1)
       SELECT (SELECT count(*) FROM changed) AS n, (SELECT pg_notify($${values.length + 1}, '') FROM changed LIMIT 1)::text AS notified`,
      [...values, channel],
    )
  ).rows;
  return Number(row.n);
}

/** Gives claims back, due at `at` (now at shutdown; later when a webhook's limit or circuit holds it). */
export async function releaseClaims(db: Db, claims: { seq: number; claim: number; at: number }[], now: number, channel: string): Promise<void> {
  // Other nodes are told only of claims given back for now: waking every worker for
  // deliveries held back for later would cost each of them a claim that finds nothing.
  const dueNow = claims.some((c) => c.at <= now);
  await requeue(
    db,
    `UPDATE deliveries d SET ${releaseSet('c.at', '$4::bigint', 'd.')} FROM unnest($1::bigint[], $2::int[], $3::bigint[]) AS c(seq, claim, at)
     WHERE d.seq = c.seq AND d.claim = c.claim AND d.status = 'pending'`,
    [claims.map((c) => c.seq), claims.map((c) => c.claim), claims.map((c) => c.at), now],
    dueNow ? channel : null,
  );
}

/** Store.holdWebhooks: one statement for every webhook, over the first DUE_LOOKAHEAD due; rows other workers are claiming are passed over. */
export async function holdWebhooks(db: Db, holds: { webhookId: string; until: number }[], now: number, dueAfter?: number): Promise<void> {
  await db.query(
    `UPDATE deliveries d SET next_attempt_at = h.until FROM unnest($1::text[], $2::bigint[]) AS h(webhook_id, until)
     WHERE d.webhook_id = h.webhook_id AND d.seq IN (
       SELECT seq FROM deliveries
       WHERE seq IN (
         SELECT seq FROM (SELECT seq, webhook_id FROM deliveries
                          WHERE status = 'pending' AND ${claimable('$3')} AND next_attempt_at > $4
                          ORDER BY next_attempt_at LIMIT ${DUE_LOOKAHEAD}) AS candidate
         WHERE webhook_id = ANY($1::text[]))
       AND status = 'pending' AND ${claimable('$3')} AND ${notManualRetry()}
       FOR UPDATE SKIP LOCKED)`,
    [holds.map((h) => h.webhookId), holds.map((h) => h.until), now, dueAfter ?? Number.MIN_SAFE_INTEGER],
  );
}

/**
 * Records a batch of results in one statement: the claim-guarded UPDATE, and the attempts of
 * the rows it changed (a stale claim's attempt is dropped with its update). Returns which of
 * the results it recorded: those whose claim was current (a stale claim's result may share its
 * seq with the current one's, in the same batch).
 *
 * The attempts are inserted plainly (no ON CONFLICT: a speculative insertion costs a WAL
 * record more per attempt). An attempt's number is its claim's `attempts + 1`, and only the
 * claim that is still current changes the row, raising `attempts` in the same statement: an
 * earlier claim of the same number was taken over (claim bumped) and can no longer record,
 * a later one numbers past it. A worker records each claim's result once.
 */
export async function recordResults(db: Db, results: AttemptResult[], now: number): Promise<Recorded> {
  const { rows } = await db.query({ name: 'herald_record_results', text: RECORD_RESULTS, values: recordValues(results, now) });
  const current = new Set(rows.map((r: Row) => `${r.seq}:${r.claim}`));
  return (r) => current.has(`${r.seq}:${r.claim}`);
}

/** Whether recordResults recorded a result (its claim was the current one). */
export type Recorded = (result: AttemptResult) => boolean;

/** The webhooks of fifo results: their turns are locked before recording. */
export function fifoWebhooks(results: AttemptResult[]): string[] {
  return [...new Set(results.filter((r) => r.fifo).map((r) => r.webhookId))];
}

/** A fifo delivery that is done passes its webhook's turn to the next (the caller holds the turn locks). */
export async function passTurns(c: PoolClient, results: AttemptResult[], recorded: Recorded, now: number): Promise<void> {
  const done = results.filter((r) => r.fifo && r.status !== 'pending' && recorded(r)).map((r) => r.webhookId);
  await settleTurns(c, done, now);
}

/**
 * Holds claimed deliveries whose webhook is paused (holdsClaim) until the resume, in a
 * transaction of its own, after the claim's: it takes the webhooks' turn locks, which must
 * never be waited for while holding row locks. Returns the seqs held; a delivery whose
 * webhook was resumed meanwhile stays claimed.
 */
export async function holdClaims(c: PoolClient, claimed: ClaimedDelivery[]): Promise<Set<number>> {
  const ids = [...new Set(claimed.map((d) => d.webhook.id))];
  await lockKeys(c, turnKeys(ids));
  const settings = await queueSettings(c, ids);
  const hold = claimed.filter((d) => { const w = settings.get(d.webhook.id); return w !== undefined && holdsClaim(w); });
  if (hold.length === 0) return new Set();
  const { rows } = await c.query(
    `UPDATE deliveries d SET ${holdSet()} FROM unnest($1::bigint[], $2::int[]) AS u(seq, claim)
     WHERE d.seq = u.seq AND d.claim = u.claim AND d.status = 'pending' RETURNING d.seq`,
    [hold.map((d) => d.seq), hold.map((d) => d.claim)],
  );
  return new Set(rows.map((r: Row) => Number(r.seq)));
}

/** Rows per transaction of a bulk retry: each holds its rows' locks for a few milliseconds. */
const BULK_BATCH = 1000;

/** Queues a workspace's deliveries in a window again, BULK_BATCH per transaction; returns how many. */
export async function retryWindow(tx: Tx, workspaceId: string, w: RetryWindow, now: number, channel: string): Promise<number> {
  let after = 0;
  let total = 0;
  for (;;) {
    const batch = await tx(async (c) => {
      const values: unknown[] = [workspaceId, after, w.status, w.since, w.until, BULK_BATCH];
      let where = '';
      if (w.webhookId !== undefined) where += ` AND d.webhook_id = $${values.push(w.webhookId)}`;
      if (w.topic !== undefined) where += ` AND EXISTS (SELECT 1 FROM events e WHERE e.seq = d.event_seq AND e.topic = $${values.push(w.topic)})`;
      const { rows } = await c.query(
        `SELECT d.seq, d.webhook_id FROM deliveries d
         WHERE d.workspace_id = $1 AND d.seq > $2 AND d.status = $3 AND d.created_at >= $4 AND d.created_at < $5${where}
         ORDER BY d.seq LIMIT $6`,
        values,
      );
      const picked = rows.map((r: Row) => ({ seq: Number(r.seq), webhook_id: r.webhook_id as string }));
      return { last: picked.at(-1)?.seq, full: picked.length === BULK_BATCH, queued: await queueAgain(c, picked, w.status, now, null, channel) };
    });
    total += batch.queued;
    if (!batch.full || batch.last === undefined) return total;
    after = batch.last;
  }
}

/**
 * recordResults, then each webhook's health from the attempts that counted, in the caller's transaction.
 *
 * Locks, in one order (advisory keys, then health rows, then deliveries), so that workers
 * recording together cannot deadlock:
 *  - a webhook that failed in the batch has its health read, folded and written back: its
 *    advisory lock ('herald.health') makes two such writers take turns, even while it has no
 *    health row yet (else both would insert one failure where there were two);
 *  - every health row of the batch's webhooks is locked before any delivery row, and only the
 *    rows locked then are healed (deleted) afterwards. A webhook with nothing but successes and
 *    no health row — the usual case — takes no lock at all, so workers delivering to the same
 *    healthy webhooks do not wait for each other's commits.
 * The turns of fifo webhooks are locked in the same call as the advisory keys.
 */
export async function recordResultsWithHealth(c: PoolClient, results: AttemptResult[], now: number, policy: HealthPolicy): Promise<HealthEffect[]> {
  const failed = results.filter((r) => r.attempt !== null && r.status !== 'succeeded').map((r) => r.webhookId);
  await lockKeys(c, [...advisoryKeys('herald.health', failed), ...turnKeys(fifoWebhooks(results))]);
  const current = new Map<string, WebhookHealth>();
  const rows = await c.query(
    'SELECT * FROM webhook_health WHERE webhook_id = ANY($1::text[]) ORDER BY webhook_id FOR UPDATE',
    [[...new Set(results.map((r) => r.webhookId))]],
  );
  for (const row of rows.rows) current.set(row.webhook_id, rowToHealth(row));
  const recorded = await recordResults(c, results, now);
  await passTurns(c, results, recorded, now);
  const outcomes = healthOutcomes(results, recorded);
  if (outcomes.length === 0) return [];

  const plan = planHealth(policy, outcomes, current, now);
  // A row that appeared since it was locked above belongs to a failure recorded meanwhile: it stays.
  const healed = plan.healed.filter((id) => current.has(id));
  if (healed.length > 0) await c.query('DELETE FROM webhook_health WHERE webhook_id = ANY($1::text[])', [healed]);
  if (plan.failing.size > 0) {
    const list = [...plan.failing];
    await c.query(
      `INSERT INTO webhook_health (webhook_id, consecutive_failures, failing_since, open_until, updated_at)
       SELECT u.*, $5::bigint FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[]) AS u
       ON CONFLICT (webhook_id) DO UPDATE SET consecutive_failures = excluded.consecutive_failures,
         failing_since = excluded.failing_since, open_until = excluded.open_until, updated_at = excluded.updated_at`,
      [list.map(([id]) => id), list.map(([, h]) => h.consecutiveFailures), list.map(([, h]) => h.failingSince), list.map(([, h]) => h.openUntil), now],
    );
  }
  if (plan.opened.length > 0) {
    await c.query(
      `UPDATE deliveries d SET next_attempt_at = u.until FROM unnest($1::text[], $2::bigint[]) AS u(webhook_id, until)
       WHERE d.webhook_id = u.webhook_id AND d.status = 'pending' AND d.next_attempt_at < u.until AND ${notManualRetry('d.')}`,
      [plan.opened.map((o) => o.webhookId), plan.opened.map((o) => o.until)],
    );
  }
  const switchedOff = new Set<string>();
  if (plan.disable.length > 0) {
    const { rows } = await c.query(
      `UPDATE webhooks w SET enabled = false, disabled_reason = u.reason, updated_at = $3
       FROM unnest($1::text[], $2::text[]) AS u(id, reason) WHERE w.id = u.id AND w.enabled
       RETURNING w.id`,
      [plan.disable.map((d) => d.webhookId), plan.disable.map((d) => d.reason), now],
    );
    for (const r of rows) switchedOff.add(r.id as string);
  }
  return appliedEffects(plan, switchedOff);
}

/** Deletes up to `limit` old events whose deliveries are all finished, with their deliveries and attempts. */
export async function purge(c: PoolClient, before: number, limit: number): Promise<number> {
  // Oldest first (seq order follows time), skipping events that still have work pending and
  // events that another transaction holds (a replay).
  const seqs = (
    await c.query(
      `SELECT seq FROM events e WHERE e.created_at < $1
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.status = 'pending')
       ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [before, limit],
    )
  ).rows.map((r: Row) => r.seq);
  if (seqs.length === 0) return 0;
  await c.query('DELETE FROM attempts WHERE delivery_seq IN (SELECT seq FROM deliveries WHERE event_seq = ANY($1::bigint[]))', [seqs]);
  await c.query('DELETE FROM deliveries WHERE event_seq = ANY($1::bigint[])', [seqs]);
  await c.query('DELETE FROM events WHERE seq = ANY($1::bigint[])', [seqs]);
  return seqs.length;
}

const RECORD_RESULTS = `
  WITH r AS MATERIALIZED (
    SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::bigint[], $5::text[], $6::int[], $7::text[],
                         $8::int[], $9::bigint[], $10::int[], $11::text[], $12::text[])
      AS r(seq, claim, status, next_attempt_at, url, status_code, error, number, started_at, duration_ms, response_body, request_headers)
  ), changed AS (
    UPDATE deliveries d SET
      ${recordSet({ status: 'r.status', nextAttemptAt: 'r.next_attempt_at', attempted: '(CASE WHEN r.number IS NULL THEN 0 ELSE 1 END)', now: '$13::bigint', row: 'd.' })},
      last_status_code = coalesce(r.status_code, d.last_status_code),
      last_error = CASE WHEN r.number IS NULL THEN 'webhook disabled' ELSE r.error END,
      url = r.url,
      updated_at = $13
    FROM r WHERE d.seq = r.seq AND d.claim = r.claim
    RETURNING d.seq, d.claim
  ), inserted AS (
    INSERT INTO attempts (delivery_seq, number, started_at, duration_ms, status_code, error, response_body, request_headers)
    SELECT r.seq, r.number, r.started_at, r.duration_ms, r.status_code, r.error, r.response_body, r.request_headers::json
    -- By claim too: a stale claim's result in the same batch as the current one's has the same seq (and number).
    FROM r JOIN changed ON changed.seq = r.seq AND changed.claim = r.claim WHERE r.number IS NOT NULL
  )
  SELECT seq, claim FROM changed`;

function recordValues(results: AttemptResult[], now: number): unknown[] {
  const a = (r: AttemptResult) => r.attempt;
  return [
    results.map((r) => r.seq),
    results.map((r) => r.claim),
    results.map((r) => r.status),
    results.map((r) => r.nextAttemptAt),
    results.map((r) => r.url),
    results.map((r) => a(r)?.statusCode ?? null),
    results.map((r) => noNul(a(r)?.error ?? null)),
    results.map((r) => a(r)?.number ?? null),
    results.map((r) => a(r)?.startedAt ?? null),
    results.map((r) => a(r)?.durationMs ?? null),
    results.map((r) => noNul(a(r)?.responseBody ?? null)),
    results.map((r) => (a(r) ? storedHeaders(a(r)!) : null)),
    now,
  ];
}

/**
 * PostgreSQL text cannot hold U+0000, which a receiver's response (or an error quoting it)
 * may contain; it is replaced so that the whole batch of results is not refused for it.
 */
function noNul(text: string | null): string | null {
  return text !== null && text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text;
}
