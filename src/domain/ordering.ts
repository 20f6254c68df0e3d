// Ordered webhooks and pausing: which of a webhook's queued deliveries may be claimed.
//
// A pending delivery is either due at its next_attempt_at (claimable once that time comes,
// like every delivery always was) or *held* (next_attempt_at null): waiting for its turn on a
// fifo webhook, or for a paused webhook's resume. The claim query never looks at held rows,
// so ordering and pausing cost the claim path nothing; the rule below decides, each time a
// webhook's queue changes (a publish, a finished delivery, a retry, a pause or resume, an
// ordering change), which held deliveries become due. Both adapters read the QueueState,
// call planTurn and apply its step, under the webhook's lock (SQLite: the write lock;
// PostgreSQL: an advisory lock per webhook), so that every change of one webhook's queue is
// serialised and no two of its deliveries are ever due or in flight at once when it is fifo.

export const ORDERINGS = ['none', 'fifo'] as const;
export type Ordering = (typeof ORDERINGS)[number];

/** What decides where a webhook's new or requeued deliveries go. */
export interface QueueSettings {
  ordering: Ordering;
  paused: boolean;
}

/**
 * Whether a delivery queued now (published, replayed, retried) waits as held instead of being
 * due at once: always on a paused webhook; on a fifo webhook, until planTurn gives it the turn.
 */
export function arrivesHeld(w: QueueSettings): boolean {
  return w.paused || w.ordering === 'fifo';
}

/**
 * A claimed delivery whose webhook was paused meanwhile (or whose retry came due while paused)
 * is held instead of sent: pausing flips a flag, and the deliveries already due are held as
 * the claim meets them, one write each.
 */
export function holdsClaim(w: QueueSettings): boolean {
  return w.paused;
}

export interface QueueState extends QueueSettings {
  /** The delivery holding a fifo webhook's turn, and whether it still does (pending and not held). */
  turn: { seq: number; active: boolean } | null;
  /** The lowest seq among the webhook's held deliveries, or null when none is held. */
  firstHeld: number | null;
}

/** What to write: the new turn (undefined: unchanged), and which held deliveries become due now. */
export interface TurnStep {
  turn?: number | null;
  wake: 'all' | number | null;
}

/**
 * The ordering rule. Paused: nothing moves. Not ordered: every held delivery is due now (after
 * a resume, or a switch from fifo). Fifo: while the turn's delivery is pending and not held
 * (being sent, or waiting for its retry) nothing moves; otherwise the lowest held delivery, in
 * publish order, takes the turn and is due now.
 */
export function planTurn(s: QueueState): TurnStep {
  if (s.paused) return { wake: null };
  if (s.ordering === 'none') return { turn: null, wake: s.firstHeld === null ? null : 'all' };
  if (s.turn?.active) return { wake: null };
  return { turn: s.firstHeld, wake: s.firstHeld };
}

/**
 * Switching a webhook from none to fifo: every pending delivery (including those in flight,
 * whose results are then dropped as stale, and those waiting for a retry) is held and goes
 * again in seq order, one at a time. Other switches and resumes only need planTurn.
 */
export function holdsAllOnSwitch(before: QueueSettings, after: QueueSettings): boolean {
  return before.ordering !== 'fifo' && after.ordering === 'fifo';
}
