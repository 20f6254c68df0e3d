// A manual retry (POST …/deliveries/{id}/retry) answers 202: a promise of one more attempt,
// made after the attempt in flight when there is one, whatever that attempt's outcome.
//
// A claim's lease is kept in `leased_until` (set by a claim, cleared when the claim's result
// is recorded or the claim is given back), so the retry knows whether an attempt is in flight:
//   - none in flight: the delivery is pending at once, in a cycle of its own that allows one
//     attempt (a manual retry passes an open circuit, see the worker);
//   - one in flight: only `retry_requested` is set, so that no other claim races the attempt;
//     recording that attempt's result (under its claim) then starts the retry instead of the
//     result's own next state, and giving the claim back makes the delivery due at once;
//   - the worker died: once the lease ends the delivery is claimed again, and that claim is the
//     retry (a claim clears the request);
//   - on a fifo webhook the delivery in flight holds the turn (src/domain/ordering.ts): the
//     retry keeps it, so the deliveries behind it wait until the retry is done too.
// recover and bulk retry queue deliveries again through retrySet as well (queueAgain in
// src/store/{sqlite,postgres}/turn.ts), so no path makes an in-flight delivery due twice.
// Both adapters build those statements from these SET lists, so the rule is written once.
// Expressions are SQL: `now`, `at`… are placeholders or columns of the caller's statement, and
// `row` qualifies the delivery's own columns where the statement joins other rows.

/**
 * SET list of a claim taken until `leaseUntil`. It leaves next_attempt_at as it was: the lease
 * alone keeps the delivery from being claimed again, so the claim changes no indexed column
 * (on PostgreSQL a HOT update, which writes no index entry). A delivery in flight is due
 * again once its lease ends: see dueAt and claimable, which every reader of "when is it due" uses.
 */
export function claimSet(leaseUntil: string): string {
  return `leased_until = ${leaseUntil}, retry_requested = FALSE`;
}

/** Whether a pending delivery's lease is running at `now`: an attempt is in flight. */
export function leased(now: string, row = ''): string {
  return `coalesce(${row}leased_until, 0) > ${now}`;
}

/**
 * How many due deliveries, earliest first, Store.claimFirstDue and Store.holdWebhooks look at to
 * find those of particular webhooks: a bound on their cost however long the queue (with 200,000
 * due, a look at all of them took 60-100 ms on SQLite; with 1,000,000, 1.4 s under the write
 * lock). What lies further back is not at the head of the queue, where claims pass over it: a
 * webhook whose first is not among them is claimed as any other, and is held again then.
 */
export const DUE_LOOKAHEAD = 10_000;

/** Whether a pending delivery may be claimed at `now`: due, and not in flight (its range of next_attempt_at is the claim's index range). */
export function claimable(now: string, row = ''): string {
  return `${row}next_attempt_at <= ${now} AND NOT ${leased(now, row)}`;
}

/** When a pending delivery is due: next_attempt_at, or its lease's end when that is later; NULL while it is held. */
export function dueAt(row = ''): string {
  return `CASE WHEN ${row}leased_until > ${row}next_attempt_at THEN ${row}leased_until ELSE ${row}next_attempt_at END`;
}

/** dueAt of a row read into memory (the delivery's next_attempt_at as the API shows it). */
export function dueTime(nextAttemptAt: number | null, leasedUntil: number | null): number | null {
  return nextAttemptAt === null ? null : Math.max(nextAttemptAt, leasedUntil ?? nextAttemptAt);
}

/**
 * A query (no parameters) of one row: `free`, the earliest next_attempt_at of the pending
 * deliveries without a lease, and `leased`, the earliest dueAt of those with one that could be
 * earlier; the earliest due time is the smaller of the two. Both are index range scans that
 * pass over the leased rows only (few: at most the attempts in flight), not the whole queue.
 */
export const NEXT_DUE = `SELECT free.due AS free,
    (SELECT min(${dueAt('d.')}) FROM deliveries d
     WHERE d.status = 'pending' AND d.leased_until IS NOT NULL AND d.next_attempt_at <= coalesce(free.due, 9223372036854775807)) AS leased
  FROM (SELECT min(next_attempt_at) AS due FROM deliveries WHERE status = 'pending' AND leased_until IS NULL) AS free`;

/** The earliest due time from a NEXT_DUE row. */
export function nextDueFrom(row: Record<string, unknown>): number | null {
  const times = [row.free, row.leased].filter((t) => t !== null && t !== undefined).map(Number);
  return times.length === 0 ? null : Math.min(...times);
}

/**
 * SET list that queues a delivery again at `now` for a new cycle of `cycleLimit` attempts
 * (1 for a manual retry, NULL for the configured retries of recover and bulk retry), due at
 * `dueAt` (`now`, or NULL: held for a fifo turn or a resume, src/domain/ordering.ts). When an
 * attempt is in flight, only `retry_requested` is set: the delivery keeps its lease (and its
 * fifo turn), and recording that attempt's result starts the retry (recordSet).
 */
export function retrySet(r: { now: string; dueAt: string; cycleLimit: string }): string {
  const inFlight = `(status = 'pending' AND ${leased(r.now)})`;
  return `status = 'pending', cycle_start = attempts, cycle_limit = ${r.cycleLimit}, updated_at = ${r.now},
    next_attempt_at = CASE WHEN ${inFlight} THEN next_attempt_at ELSE ${r.dueAt} END, retry_requested = ${inFlight}`;
}

/**
 * SET list that records an attempt's result under its claim: the result's own status and
 * next attempt time, unless a retry was asked for while it was in flight. `attempted` is 1 for
 * an attempt made, 0 for a delivery closed without one (its webhook disabled).
 */
export function recordSet(r: { status: string; nextAttemptAt: string; attempted: string; now: string; row: string }): string {
  const asked = `${r.row}retry_requested`;
  return `status = CASE WHEN ${asked} THEN 'pending' ELSE ${r.status} END,
    next_attempt_at = CASE WHEN ${asked} THEN ${r.now} ELSE ${r.nextAttemptAt} END,
    cycle_start = CASE WHEN ${asked} THEN ${r.row}attempts + ${r.attempted} ELSE ${r.row}cycle_start END,
    cycle_limit = CASE WHEN ${asked} THEN 1 WHEN ${r.status} = 'pending' THEN ${r.row}cycle_limit ELSE NULL END,
    attempts = ${r.row}attempts + ${r.attempted}, retry_requested = FALSE, leased_until = NULL`;
}

/** SET list of a claim given back without an attempt, due again at `at` (at once when a retry was asked for meanwhile). */
export function releaseSet(at: string, now: string, row = ''): string {
  return `next_attempt_at = CASE WHEN ${row}retry_requested THEN ${now} ELSE ${at} END, retry_requested = FALSE, leased_until = NULL`;
}

/**
 * SET list of a claim (or a claim-less pending delivery) held without an attempt: its webhook
 * is paused, or it switched to fifo (src/domain/ordering.ts). It is no longer in flight, and a
 * retry asked for meanwhile is the attempt it gets when its turn or the resume comes.
 */
export function holdSet(): string {
  return 'next_attempt_at = NULL, retry_requested = FALSE, leased_until = NULL';
}

/**
 * Whether a pending delivery is not a manual retry (a cycle of one attempt), for the circuit
 * breaker's push of a webhook's deliveries past its open-until: a manual retry is someone
 * asking for an attempt now, and passes an open circuit (the worker admits it, see worker.ts).
 */
export function notManualRetry(row = ''): string {
  return `(${row}cycle_limit IS NULL OR ${row}cycle_limit <> 1)`;
}

/**
 * A claim's test that passes over a delivery unless it is a manual retry: `notListed` is the
 * dialect's test that its webhook is not among those passed over (held back by the worker's
 * limiter), and a manual retry goes however its webhook is held.
 */
export function unlessManualRetry(notListed: string, row = ''): string {
  return `(${notListed} OR ${row}cycle_limit = 1)`;
}
