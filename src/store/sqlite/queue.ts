// The delivery queue on SQLite: claim, record (with each webhook's health), release, retry,
// rate limits and purge. Every write is a write transaction behind the shared write lock.
// The rules are the domain's: planHealth decides the health update, takeRate the rate limit.
import { appliedEffects, healthOutcomes, healthToRead, planHealth, type HealthEffect, type HealthPolicy, type WebhookHealth } from '../../domain/health.js';
import { storedHeaders } from '../../domain/sent-headers.js';
import { takeRate, type RateGrant } from '../../domain/rate.js';
import { holdsClaim } from '../../domain/ordering.js';
import type { AttemptResult, ClaimedDelivery, RetryWindow } from '../store.js';
import { claimedColumns, claimedFrom, rowToClaimed, rowToClaimedWebhook, rowToHealth, type Row } from '../rows.js';
import type { SqliteConnection } from './connection.js';
import { claimable, claimSet, DUE_LOOKAHEAD, unlessManualRetry, dueAt, holdSet, NEXT_DUE, nextDueFrom, notManualRetry, recordSet, releaseSet } from '../manual-retry.js';
import { queueAgain, settleTurns } from './turn.js';

/** Claimed deliveries chosen by a WHERE clause over deliveries d. */
export function claimedWhere(c: SqliteConnection, where: string, ...params: unknown[]): ClaimedDelivery[] {
  const rows = c.sql(
    `SELECT ${claimedColumns(['d', 'e', 'w', 'h'])}
     FROM deliveries d JOIN events e ON e.seq = d.event_seq JOIN webhooks w ON w.id = d.webhook_id
     LEFT JOIN webhook_health h ON h.webhook_id = d.webhook_id WHERE ${where}`,
  ).all(...params) as Row[];
  return rows.map(rowToClaimed);
}

/** The first due deliveries that may be claimed at @now, at most @limit, earliest first. */
const PICK = `SELECT seq FROM deliveries WHERE status = 'pending' AND ${claimable('@now')} ORDER BY next_attempt_at, seq LIMIT @limit`;

export function claimDue(c: SqliteConnection, now: number, limit: number, leaseUntil: number, skipWebhooks: readonly string[] = []): Promise<ClaimedDelivery[]> {
  // Without webhooks to pass over: one statement picks the batch, earliest due first, and
  // takeClaims leases it.
  if (skipWebhooks.length > 0) return claimPassingOver(c, now, limit, leaseUntil, skipWebhooks);
  return c.write(() => {
    const due = c.sql(PICK)
      .pluck().all({ now, limit }) as number[];
    return takeClaims(c, due, now, leaseUntil);
  });
}

/**
 * Due rows a claim that passes over webhooks reads per write transaction at most (about 3-4 ms
 * of the write lock on a slow core when all of them are passed over).
 */
export const PASS_OVER_PART = 5_000;
/** How long a claim that passes over webhooks trusts what the last one found (PassedOver). */
const PASSED_OVER_MS = 1_000;

/** A key of the due index: (next_attempt_at, seq). */
type DueKey = { at: number; seq: number };

/**
 * What the last claim that passed over webhooks found on a connection: before `key`, no due
 * delivery it could take that was not of one of `skipped`. A claim that passes over at least
 * these webhooks starts there, so that each claim reads what came due since the last rather
 * than every passed-over row again (1,000 hanging webhooks: about 370 claims a second, each
 * reading the 1,000-2,000 rows of the webhooks whose first attempt hangs). A write that made
 * deliveries due behind the key (a publish takes its time, then waits for the write lock) has
 * lowered the connection's due mark, and the claim starts there instead. A lease that runs
 * out brings its delivery back without a write; a scan from the start every PASSED_OVER_MS
 * bounds how long that waits.
 */
interface PassedOver {
  /** Also the rows of the connection's temp.passed_over (below). */
  skipped: Set<string>;
  key: DueKey;
  since: number;
}
const passedOver = new WeakMap<SqliteConnection, PassedOver>();

/**
 * Makes the connection's temp.passed_over hold the webhooks `skipped` (it held `before`), inside
 * the caller's write. A claim tests each row against this table's key: a list of 1,000 webhooks
 * given with each claim (json_each) was read into a table of its own every time, 0.4 ms a claim.
 */
function passOver(c: SqliteConnection, before: Set<string> | null, skipped: Set<string>): void {
  if (before === null) {
    c.sql('CREATE TEMP TABLE IF NOT EXISTS passed_over (webhook_id TEXT PRIMARY KEY) WITHOUT ROWID').run();
    c.sql('DELETE FROM temp.passed_over').run();
  }
  const remove = c.sql('DELETE FROM temp.passed_over WHERE webhook_id = ?');
  const add = c.sql('INSERT INTO temp.passed_over (webhook_id) VALUES (?)');
  for (const id of before ?? []) if (!skipped.has(id)) remove.run(id);
  for (const id of skipped) if (!before?.has(id)) add.run(id);
}

/**
 * The due rows from (@at, @seq) on in (next_attempt_at, seq) order, as two index ranges: the
 * rest of the rows due at @at (often many: a batch publish), then those due later (a row-value
 * comparison had SQLite read a run of equal due times from its start every time). SQLite merges
 * the two in order, and reads only as far as the outer LIMIT needs.
 */
function dueFrom(columns: string): string {
  return `SELECT ${columns} FROM deliveries INDEXED BY deliveries_due WHERE status = 'pending' AND next_attempt_at = @at AND seq >= @seq
    UNION ALL SELECT ${columns} FROM deliveries INDEXED BY deliveries_due WHERE status = 'pending' AND next_attempt_at > @at AND next_attempt_at <= @now
    ORDER BY next_attempt_at, seq`;
}
/** The part's claimable rows that are not passed over, as DueKeys, at most @want. */
const PICK_PART = `SELECT next_attempt_at AS at, seq FROM (${dueFrom('seq, next_attempt_at, leased_until, webhook_id, cycle_limit')} LIMIT ${PASS_OVER_PART})
  WHERE ${claimable('@now')} AND ${unlessManualRetry('webhook_id NOT IN (SELECT webhook_id FROM temp.passed_over)')}
  ORDER BY next_attempt_at, seq LIMIT @want`;
/** Where the next part starts: the first row after this one (none: this part runs to the end). */
const NEXT_PART = `${dueFrom('next_attempt_at AS at, seq')} LIMIT 1 OFFSET ${PASS_OVER_PART}`;
const LAST_DUE = `SELECT next_attempt_at AS at, seq FROM deliveries INDEXED BY deliveries_due WHERE status = 'pending' AND next_attempt_at <= ?
  ORDER BY next_attempt_at DESC, seq DESC LIMIT 1`;

/**
 * Where a claim passing over `skipped` starts, and since when what it trusts was found, inside
 * its first write: read and changed under the write lock, so that claims made side by side
 * cannot leave temp.passed_over and what it is thought to hold apart.
 */
function startOfClaim(c: SqliteConnection, now: number, skipped: Set<string>): PassedOver {
  const known = passedOver.get(c) ?? null;
  const age = known ? now - known.since : -1;
  const trusted = known !== null && age >= 0 && age < PASSED_OVER_MS && known.key.at <= now && [...known.skipped].every((id) => skipped.has(id));
  const mark = c.takeDueMark();
  passOver(c, known?.skipped ?? null, skipped);
  const start: PassedOver = !trusted ? { skipped, key: { at: Number.MIN_SAFE_INTEGER, seq: 0 }, since: now }
    // At the cursor's own time too: a write to an existing row keeps its seq, which may be lower.
    : { skipped, key: mark !== null && mark <= known.key.at ? { at: mark, seq: 0 } : known.key, since: known.since };
  passedOver.set(c, start);
  return start;
}

async function claimPassingOver(c: SqliteConnection, now: number, limit: number, leaseUntil: number, skipWebhooks: readonly string[]): Promise<ClaimedDelivery[]> {
  const skipped = new Set(skipWebhooks);
  const claimed: ClaimedDelivery[] = [];
  let cursor: PassedOver | null = null; // null until the first part has decided where to start
  for (;;) {
    const want = limit - claimed.length;
    let part: { claimed: ClaimedDelivery[]; next: DueKey | null; passed: PassedOver };
    try {
      part = await c.write(() => {
        const from = cursor ?? startOfClaim(c, now, skipped);
        const at = { now, at: from.key.at, seq: from.key.seq };
        const picked = c.sql(PICK_PART).all({ ...at, want }) as DueKey[];
        // A full batch ends the claim, though takeClaims may hold some of it back (as one statement would).
        const next = picked.length < want ? (c.sql(NEXT_PART).get(at) as DueKey | undefined) ?? null : null;
        // Passed, for the next claim: up to the last row taken (the claim leases it; it comes back
        // with a new key), the next part's start, or past the last due row when this was the last part.
        const last = picked.length === want ? picked.at(-1)! : next ? null : (c.sql(LAST_DUE).get(now) as DueKey | undefined) ?? null;
        const passed = { ...from, key: last ? { at: last.at, seq: last.seq + 1 } : next ?? from.key };
        return { claimed: takeClaims(c, picked.map((p) => p.seq), now, leaseUntil), next, passed };
      });
    } catch (err) {
      // Rolled back (temp.passed_over with it, and the due mark taken): the next claim starts over.
      passedOver.delete(c);
      throw err;
    }
    claimed.push(...part.claimed);
    passedOver.set(c, part.passed);
    if (!part.next) return claimed;
    cursor = { ...part.passed, key: part.next };
    await c.yieldWrites();
  }
}

/**
 * Store.claimFirstDue: each webhook's earliest due delivery among the first DUE_LOOKAHEAD
 * due, read off the due index (never a walk through a webhook's history; a webhook not among
 * them is claimed as any other).
 */
export function claimFirstDue(c: SqliteConnection, now: number, webhookIds: readonly string[], leaseUntil: number): Promise<ClaimedDelivery[]> {
  if (webhookIds.length === 0) return Promise.resolve([]);
  return c.write(() => {
    // A bare column beside min() comes from the row holding the minimum.
    const first = c.sql(
      `SELECT seq, min(due_at) AS due_at FROM (
         SELECT seq, webhook_id, next_attempt_at AS due_at FROM deliveries
         WHERE status = 'pending' AND ${claimable('@now')} ORDER BY next_attempt_at LIMIT ${DUE_LOOKAHEAD})
       WHERE webhook_id IN (SELECT value FROM json_each(@ids))
       GROUP BY webhook_id`,
    ).all({ now, ids: JSON.stringify(webhookIds) }) as { seq: number; due_at: number }[];
    first.sort((a, b) => a.due_at - b.due_at || a.seq - b.seq);
    return takeClaims(c, first.map((f) => f.seq), now, leaseUntil);
  });
}

/** Leases the deliveries of a JSON list of seqs (the second parameter) until the first. */
const TAKE = `UPDATE deliveries SET claim = claim + 1, ${claimSet('?')} WHERE seq IN (SELECT value FROM json_each(?))`;
/** The deliveries of a JSON list of seqs, in its order, each with its event's columns (null when the event is gone). */
const TAKEN = `SELECT ${claimedColumns(['d', 'e'])}, d.webhook_id FROM json_each(?) j
  JOIN deliveries d ON d.seq = j.value LEFT JOIN events e ON e.seq = d.event_seq ORDER BY j.key`;
/** A claimed delivery's webhook, with its circuit. */
const CLAIMED_WEBHOOK = `SELECT ${claimedColumns(['w', 'h'])} FROM webhooks w LEFT JOIN webhook_health h ON h.webhook_id = w.id WHERE w.id = ?`;

/**
 * Leases the deliveries `due` (in that order) until `leaseUntil`, inside the caller's write,
 * and reads them back with their events in one statement (TAKEN); each webhook is read once
 * per batch (most batches hold many deliveries of few webhooks).
 */
function takeClaims(c: SqliteConnection, due: number[], now: number, leaseUntil: number): ClaimedDelivery[] {
  if (due.length === 0) return [];
  const dueJson = JSON.stringify(due);
  c.sql(TAKE).run(leaseUntil, dueJson);
  // Read back in the order picked, each with its event (null columns when it has none).
  const taken = c.sql(TAKEN).all(dueJson) as Row[];
  const readWebhook = c.sql(CLAIMED_WEBHOOK);
  const webhooks = new Map<string, ClaimedDelivery['webhook'] | null>();
  const claimed: ClaimedDelivery[] = [];
  for (const row of taken) {
    let webhook = webhooks.get(row.webhook_id);
    if (webhook === undefined) {
      const w = readWebhook.get(row.webhook_id) as Row | undefined;
      webhook = w ? rowToClaimedWebhook(w) : null;
      webhooks.set(row.webhook_id, webhook);
    }
    if (!webhook || row.event_id === null) {
      // Deleting a webhook or workspace cancels or removes its deliveries with it; should
      // one be left over all the same, it has nowhere to go.
      c.sql(`UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, updated_at = ? WHERE seq = ?`).run(now, row.seq);
      continue;
    }
    if (holdsClaim({ ordering: webhook.ordering ?? 'none', paused: webhook.paused ?? false })) {
      // Paused since it was queued: held until the resume (which settles the turn).
      c.sql(`UPDATE deliveries SET ${holdSet()} WHERE seq = ?`).run(row.seq);
      continue;
    }
    claimed.push(claimedFrom(row, webhook));
  }
  return claimed;
}

export function queueStats(c: SqliteConnection, now: number): { pending: number; oldestDueAt: number | null } {
  const row = c.sql(
    `SELECT count(*) AS pending, min(CASE WHEN ${dueAt()} <= @now THEN ${dueAt()} END) AS oldest
     FROM deliveries WHERE status = 'pending'`,
  ).get({ now }) as Row;
  return { pending: row.pending, oldestDueAt: row.oldest ?? null };
}

export function nextDueAt(c: SqliteConnection): number | null {
  return nextDueFrom(c.sql(NEXT_DUE).get() as Row);
}

/**
 * A statement written with named parameters (@name, each as often as needed), run with an
 * argument list: better-sqlite3 binds an object's keys by name, about 1 µs more per run of a
 * 9-parameter UPDATE measured alone (0.2-0.6 µs per delivery in `npm run bench:store`), and
 * recording runs this one once per attempt, on the delivery thread. A name in the text that is
 * not in `names` throws here, as a missing named parameter would have thrown at the first run.
 */
function positional<K extends string>(names: readonly K[], text: string): { text: string; args: (values: Record<K, unknown>) => unknown[] } {
  const order: K[] = [];
  const out = text.replace(/@(\w+)/g, (_, name: string) => {
    if (!(names as readonly string[]).includes(name)) throw new Error(`positional: @${name} is not one of ${names.join(', ')}`);
    order.push(name as K);
    return '?';
  });
  return { text: out, args: (values) => order.map((n) => values[n]) };
}

const RECORD = positional(
  ['status', 'next', 'attempted', 'now', 'code', 'error', 'url', 'seq', 'claim'],
  `UPDATE deliveries SET ${recordSet({ status: '@status', nextAttemptAt: '@next', attempted: '@attempted', now: '@now', row: '' })},
     last_status_code = coalesce(@code, last_status_code), last_error = @error, url = @url, updated_at = @now
   WHERE seq = @seq AND claim = @claim`,
);

export function recordResults(c: SqliteConnection, results: AttemptResult[], now: number, health?: HealthPolicy): Promise<HealthEffect[]> {
  const update = c.sql(RECORD.text);
  const insertAttempt = c.sql(
    // No OR IGNORE: only the current claim records, numbering past every attempt before it (see postgres/queue.ts recordResults).
    `INSERT INTO attempts (delivery_seq, number, started_at, duration_ms, status_code, error, response_body, request_headers)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  // Serialised before the write lock is taken.
  const requestHeaders = results.map((r) => (r.attempt ? storedHeaders(r.attempt) : null));
  return c.write(() => {
    // A retry asked for in flight is due now; a retry's own time may be as early (a zero delay).
    c.markDue(results.reduce((earliest, r) => Math.min(earliest, r.nextAttemptAt ?? now), now));
    const recorded = results.map((r, i) => {
      const a = r.attempt;
      const changed = update.run(...RECORD.args({
        status: r.status, attempted: a ? 1 : 0, next: r.nextAttemptAt, code: a?.statusCode ?? null, error: a ? a.error : 'webhook disabled',
        url: r.url, now, seq: r.seq, claim: r.claim,
      })).changes > 0;
      if (changed && a) insertAttempt.run(r.seq, a.number, a.startedAt, a.durationMs, a.statusCode, a.error, a.responseBody, requestHeaders[i]);
      return changed;
    });
    // A fifo delivery that is done passes its webhook's turn to the next.
    settleTurns(c, results.filter((r, i) => r.fifo && recorded[i] && r.status !== 'pending').map((r) => r.webhookId), now);
    return health ? applyHealth(c, health, healthOutcomes(results, (_, i) => recorded[i]!), now) : [];
  });
}

/** Reads the health planHealth needs, and writes what it decided (inside recordResults' transaction). */
function applyHealth(c: SqliteConnection, policy: HealthPolicy, outcomes: ReturnType<typeof healthOutcomes>, now: number): HealthEffect[] {
  if (outcomes.length === 0) return [];
  const current = new Map<string, WebhookHealth>();
  const read = c.sql('SELECT * FROM webhook_health WHERE webhook_id = ?');
  for (const id of healthToRead(outcomes)) {
    const row = read.get(id) as Row | undefined;
    if (row) current.set(id, rowToHealth(row));
  }
  const plan = planHealth(policy, outcomes, current, now);
  const heal = c.sql('DELETE FROM webhook_health WHERE webhook_id = ?');
  for (const id of plan.healed) heal.run(id);
  const write = c.sql(
    `INSERT INTO webhook_health (webhook_id, consecutive_failures, failing_since, open_until, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (webhook_id) DO UPDATE SET consecutive_failures = excluded.consecutive_failures,
       failing_since = excluded.failing_since, open_until = excluded.open_until, updated_at = excluded.updated_at`,
  );
  for (const [id, h] of plan.failing) write.run(id, h.consecutiveFailures, h.failingSince, h.openUntil, now);
  const wait = c.sql(`UPDATE deliveries SET next_attempt_at = ? WHERE webhook_id = ? AND status = 'pending' AND next_attempt_at < ? AND ${notManualRetry()}`);
  for (const { webhookId, until } of plan.opened) wait.run(until, webhookId, until);
  const disable = c.sql('UPDATE webhooks SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ? AND enabled = 1');
  const switchedOff = new Set<string>();
  for (const { webhookId, reason } of plan.disable) {
    if (disable.run(reason, now, webhookId).changes > 0) switchedOff.add(webhookId);
  }
  if (switchedOff.size > 0) c.planVersion++;
  return appliedEffects(plan, switchedOff);
}

export function releaseClaims(c: SqliteConnection, claims: { seq: number; claim: number; at: number }[], now: number): Promise<void> {
  const release = c.sql(`UPDATE deliveries SET ${releaseSet('@at', '@now')} WHERE seq = @seq AND claim = @claim AND status = 'pending'`);
  return c.write(() => {
    for (const claim of claims) release.run({ at: claim.at, now, seq: claim.seq, claim: claim.claim });
    if (claims.length > 0) c.markDue(claims.reduce((earliest, claim) => Math.min(earliest, claim.at), now));
  });
}

/**
 * Store.holdWebhooks: one pass over the first DUE_LOOKAHEAD due deliveries (since `dueAfter`)
 * for every webhook (not one over each webhook's history), then each row found is given its
 * webhook's hold end by key (a JSON list looked up per row took 346 ms for 1,000 holds x 1,000
 * rows).
 */
export function holdWebhooks(c: SqliteConnection, holds: { webhookId: string; until: number }[], now: number, dueAfter?: number): Promise<void> {
  if (holds.length === 0) return Promise.resolve();
  const until = new Map<string, number>();
  for (const h of holds) until.set(h.webhookId, Math.max(h.until, until.get(h.webhookId) ?? 0));
  return c.write(() => {
    const rows = c.sql(
      `SELECT seq, webhook_id FROM (
         SELECT seq, webhook_id, cycle_limit FROM deliveries INDEXED BY deliveries_due
         WHERE status = 'pending' AND ${claimable('@now')} AND next_attempt_at > @after ORDER BY next_attempt_at LIMIT ${DUE_LOOKAHEAD})
       WHERE ${notManualRetry()} AND webhook_id IN (SELECT value FROM json_each(@ids))`,
    ).all({ now, after: dueAfter ?? Number.MIN_SAFE_INTEGER, ids: JSON.stringify([...until.keys()]) }) as { seq: number; webhook_id: string }[];
    const hold = c.sql('UPDATE deliveries SET next_attempt_at = ? WHERE seq = ?');
    for (const row of rows) hold.run(until.get(row.webhook_id)!, row.seq);
  });
}

export function retryDelivery(c: SqliteConnection, workspaceId: string, id: string, now: number): Promise<boolean> {
  // One more attempt, after the one in flight if any (src/store/manual-retry.ts, through queueAgain).
  return c.write(() => {
    const rows = c.sql('SELECT seq, webhook_id FROM deliveries WHERE id = ? AND workspace_id = ?').all(id, workspaceId) as { seq: number; webhook_id: string }[];
    return queueAgain(c, rows, now, 1) > 0;
  });
}

/** Rows per transaction of a bulk retry or replay: each holds the write lock for a few milliseconds. */
export const BULK_BATCH = 1000;

/** Queues a workspace's deliveries in a window again, BULK_BATCH per write transaction; returns how many. */
export async function retryWindow(c: SqliteConnection, workspaceId: string, w: RetryWindow, now: number): Promise<number> {
  const pick = c.sql(
    `SELECT d.seq, d.webhook_id FROM deliveries d
     WHERE d.workspace_id = ? AND d.seq > ? AND d.status = ? AND d.created_at >= ? AND d.created_at < ?
       AND (? IS NULL OR d.webhook_id = ?)
       AND (? IS NULL OR EXISTS (SELECT 1 FROM events e WHERE e.seq = d.event_seq AND e.topic = ?))
     ORDER BY d.seq LIMIT ?`,
  );
  let after = 0;
  let total = 0;
  for (;;) {
    const batch = await c.write(() => {
      const rows = pick.all(
        workspaceId, after, w.status, w.since, w.until, w.webhookId ?? null, w.webhookId ?? null, w.topic ?? null, w.topic ?? null, BULK_BATCH,
      ) as { seq: number; webhook_id: string }[];
      return { last: rows.at(-1)?.seq, queued: queueAgain(c, rows, now, null), full: rows.length === BULK_BATCH };
    });
    total += batch.queued;
    if (!batch.full || batch.last === undefined) return total;
    after = batch.last;
  }
}

export function takeRateTokens(c: SqliteConnection, webhookId: string, perSecond: number, count: number, now: number): Promise<RateGrant> {
  return c.write(() => {
    const row = c.sql('SELECT tat FROM webhook_rate WHERE webhook_id = ?').get(webhookId) as Row | undefined;
    const grant = takeRate(row ? Number(row.tat) : null, perSecond, count, now);
    c.sql(
      `INSERT INTO webhook_rate (webhook_id, tat, granted, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (webhook_id) DO UPDATE SET tat = excluded.tat, granted = excluded.granted, updated_at = excluded.updated_at`,
    ).run(webhookId, grant.tat, grant.granted, now);
    return { granted: grant.granted, retryAt: grant.retryAt };
  });
}

export function purge(c: SqliteConnection, before: number, limit: number): Promise<number> {
  const walk = c.sql(
    `SELECT seq, created_at, EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.status = 'pending') AS pending
     FROM events e ORDER BY seq`,
  );
  return c.write(() => {
    // Oldest first, skipping events that still have work pending. Seq order follows time, so
    // the walk ends at the first event that is not old: a filter on created_at read every
    // event when none was old (after a burst of 50,000, 10-20 ms of the API thread a minute).
    const events: Row[] = [];
    for (const row of walk.iterate() as Iterable<Row>) {
      if (row.created_at >= before || events.length === limit) break;
      if (!row.pending) events.push(row);
    }
    const deleteAttempts = c.sql('DELETE FROM attempts WHERE delivery_seq IN (SELECT seq FROM deliveries WHERE event_seq = ?)');
    const deleteDeliveries = c.sql('DELETE FROM deliveries WHERE event_seq = ?');
    const deleteEvent = c.sql('DELETE FROM events WHERE seq = ?');
    for (const { seq } of events) {
      deleteAttempts.run(seq);
      deleteDeliveries.run(seq);
      deleteEvent.run(seq);
    }
    return events.length;
  });
}
