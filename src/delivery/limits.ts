// Per-webhook admission, so that bad receivers cannot hurt the others, however many there are:
//  - standing: a webhook whose last attempt got an answer within `slowMs` is answering; one
//    with no attempt yet in this process is new; one whose last attempt timed out, could not
//    connect or answered slowly, whose circuit is not closed, or whose attempts in flight have
//    not ended for `slowMs` (it hangs now) is suspect.
//  - concurrency: an answering webhook starts with a few attempts in flight and earns more
//    with fast answers, up to the configured maximum; slow answers and failures halve it
//    (AIMD). New and suspect webhooks are probed one attempt at a time.
//  - shares of the worker's slots (with `workerSlots`): new and suspect webhooks together hold
//    at most half of them, suspect ones at most a quarter, so at least half are always there
//    for answering webhooks and a quarter for new ones. A new webhook's attempt that hangs
//    counts as suspect from then on, freeing its place for the next new webhook.
//  - circuit: a webhook whose circuit is open waits; half-open allows one probe at a time.
//  - rate: an optional requests-per-second limit, kept in the database so that it holds
//    across every worker of every node (takeRateShares, Store.takeRateTokens).
// A delivery that is not admitted goes back to the queue, due again when it may be admitted;
// when a suspect or new webhook is held back, so are all of its due deliveries, in one statement
// (Store.holdWebhooks): they are not claimed one by one only to be given back, and healthy
// deliveries behind them are claimed at once. A suspect webhook held back again and again
// waits twice as long each time (up to 30 s, or the timeout).

import type { Logger } from 'pino';
import { circuitState } from '../domain/health.js';
import { rateInterval } from '../domain/rate.js';
import type { ClaimedDelivery, RateStore } from '../store/store.js';

export interface LimiterOptions {
  /** Most attempts in flight for one webhook. */
  maxPerWebhook: number;
  /** Where an answering webhook starts, and the floor after failures. */
  initialPerWebhook: number;
  /** An attempt at least this slow counts as a sign of an overloaded receiver. */
  slowMs: number;
  /** Attempts in flight for a webhook that has not answered yet (default initialPerWebhook). */
  newPerWebhook?: number;
  /** The worker's slots; when given, new and suspect webhooks get at most their shares of them. */
  workerSlots?: number;
  /** The longest an attempt can last (the delivery timeout): the longest a suspect is held back. */
  timeoutMs?: number;
}

type Standing = 'new' | 'answering' | 'suspect';

interface WebhookState {
  inFlight: number;
  limit: number;
  /** Moving average of attempt durations, ms. */
  avgMs: number;
  /** When an attempt last ended, or the first of the current ones started. */
  lastEndAt: number;
  standing: Standing;
  /** Attempts in flight counted in the new and in the suspect share. */
  heldNew: number;
  heldSuspect: number;
  /** Held back as a whole until then (0: not held back); its other deliveries meanwhile too. */
  heldUntil: number;
  /** Times it has been held back as a whole since it last had an attempt admitted. */
  heldInARow: number;
  /** Held back as a whole while its probe (a suspect's one attempt) is in flight. */
  probing: boolean;
  /** Its circuit's open-until, as last seen open by admit(); 0 once it answers. */
  circuitUntil: number;
}

/**
 * What the worker's claims pass over (limits.ts heldNow): webhooks held back as a whole, until
 * when; webhooks whose probe is in flight; and webhooks whose hold ended without an answer, whose
 * next claim is a probe.
 */
export interface HeldWebhooks {
  held: { webhookId: string; until: number }[];
  probing: string[];
  ended: string[];
}

/** Not admitted: due again at `retryAt`; `webhook` when the whole webhook is held back until then. */
export type Admission = { admitted: true } | { admitted: false; retryAt: number; webhook?: true };

/** Shortest hold of a webhook at its limit; the longest for an answering one. */
const MIN_HOLD_MS = 25;
const MAX_ANSWERING_HOLD_MS = 5_000;
/** The longest a new webhook waits at first when the new share is full (its holders are found out within `slowMs`); see newShareHold. */
const FULL_NEW_SHARE_HOLD_MS = 1_000;
/** The longest a suspect webhook is held back at once (or the delivery timeout, if longer; 5 s without one). */
const MAX_SUSPECT_HOLD_MS = 30_000;

export class WebhookLimiter {
  private readonly states = new Map<string, WebhookState>();
  /** Webhooks with attempts counted in the new share (at most that share's size). */
  private readonly newHolders = new Set<WebhookState>();
  /** Webhooks held back as a whole, or probing; those whose hold has ended are dropped by heldNow(). */
  private readonly heldWhole = new Map<string, WebhookState>();
  private heldNew = 0;
  private heldSuspect = 0;
  private readonly caps: { untrusted: number; suspect: number };
  private readonly maxHoldMs: number;

  constructor(private readonly options: LimiterOptions) {
    const slots = options.workerSlots ?? Infinity;
    this.caps = { untrusted: Math.max(1, Math.floor(slots / 2)), suspect: Math.max(1, Math.floor(slots / 4)) };
    this.maxHoldMs = options.timeoutMs === undefined ? MAX_ANSWERING_HOLD_MS : Math.max(MAX_SUSPECT_HOLD_MS, options.timeoutMs);
  }

  private state(id: string): WebhookState {
    let s = this.states.get(id);
    if (!s) {
      if (this.states.size > 100_000) this.forgetIdle();
      s = { inFlight: 0, limit: this.options.initialPerWebhook, avgMs: 0, lastEndAt: 0, standing: 'new', heldNew: 0, heldSuspect: 0, heldUntil: 0, heldInARow: 0, probing: false, circuitUntil: 0 };
      this.states.set(id, s);
    }
    return s;
  }

  private hangs(s: WebhookState, now: number): boolean {
    return s.inFlight > 0 && now - s.lastEndAt >= this.options.slowMs;
  }

  /** A new webhook's attempts that hang are suspect's: they leave the new share (which stays for webhooks not yet found out). */
  private sweepNewShare(now: number): void {
    for (const s of this.newHolders) {
      if (!this.hangs(s, now)) continue;
      this.heldNew -= s.heldNew;
      this.heldSuspect += s.heldNew;
      s.heldSuspect += s.heldNew;
      s.heldNew = 0;
      this.newHolders.delete(s);
    }
  }

  /** Whether the webhook's circuit, concurrency and share let one more attempt start now; if so, it counts as in flight. */
  admit(webhookId: string, openUntil: number | null, now: number): Admission {
    const s = this.state(webhookId);
    const circuit = circuitState({ openUntil }, now);
    // (Opening a circuit held its deliveries back already: Store.recordResults.)
    if (circuit === 'open') {
      // Held back as a whole until the circuit half-opens: claims pass over its deliveries (heldNow),
      // instead of taking each one published meanwhile only to give it back. (Not heldUntil: a
      // manual retry passes an open circuit, and is admitted with openUntil null.)
      s.circuitUntil = openUntil!;
      this.heldWhole.set(webhookId, s);
      return { admitted: false, retryAt: openUntil!, webhook: true };
    }
    if (s.heldUntil > now) return { admitted: false, retryAt: s.heldUntil, webhook: true };
    const suspect = circuit === 'half-open' || s.standing === 'suspect' || this.hangs(s, now);
    const isNew = !suspect && s.standing === 'new';
    let limit = Math.min(s.limit, this.options.maxPerWebhook);
    if (suspect) limit = 1;
    else if (isNew) limit = Math.min(limit, this.options.newPerWebhook ?? limit);
    if (suspect) {
      this.sweepNewShare(now);
      const full = this.heldSuspect >= this.caps.suspect || this.heldNew + this.heldSuspect >= this.caps.untrusted;
      if (full || s.inFlight >= limit) return this.holdWhole(webhookId, s, now, this.suspectHold(s, now));
    } else if (s.inFlight >= limit) {
      return { admitted: false, retryAt: now + this.holdFor(s, now) };
    } else if (isNew) {
      this.sweepNewShare(now);
      const untrusted = this.heldNew + this.heldSuspect;
      const untrustedFull = untrusted >= this.caps.untrusted;
      if (this.heldNew >= this.caps.untrusted - this.caps.suspect || untrustedFull) {
        return this.holdWhole(webhookId, s, now, this.newShareHold(s, now, untrustedFull));
      }
    }
    if (s.inFlight === 0) s.lastEndAt = now;
    s.inFlight++;
    s.heldInARow = 0;
    if (suspect) {
      s.heldSuspect++;
      this.heldSuspect++;
    } else if (isNew) {
      s.heldNew++;
      this.heldNew++;
      this.newHolders.add(s);
    }
    if ((suspect || isNew) && s.inFlight >= limit) this.startProbe(webhookId, s, now, suspect);
    return { admitted: true };
  }

  /**
   * A new or suspect webhook's one attempt (its probe) is in flight: nothing is learnt before it
   * ends, so claims pass over the deliveries queued behind it instead of taking them only to give
   * them back (heldNow). A suspect one, expected to hang, is held back as a whole until the
   * probe's time limit (done() ends the hold): the deliveries queued meanwhile are moved to the
   * hold's end too. A new one, most likely to answer at once, only until it hangs.
   */
  private startProbe(webhookId: string, s: WebhookState, now: number, suspect: boolean): void {
    s.probing = true;
    if (suspect) {
      s.heldUntil = now + this.probeLimitMs();
      s.heldInARow = 1; // a hold like any other: the next, should the probe hang, is twice as long
    }
    this.heldWhole.set(webhookId, s);
  }

  private probeLimitMs(): number {
    return this.options.timeoutMs ?? this.options.slowMs;
  }

  /**
   * Back when a slot is likely to free: about one attempt's time, or, when nothing has ended
   * for longer than that (a receiver that hangs), about as long as nothing has ended — so its
   * deliveries are not claimed and given back every few milliseconds. Bounded by 5 s.
   */
  private holdFor(s: WebhookState, now: number): number {
    return Math.min(MAX_ANSWERING_HOLD_MS, Math.max(MIN_HOLD_MS, Math.round(Math.max(s.avgMs, now - s.lastEndAt))));
  }

  /**
   * A suspect webhook's hold: as holdFor, but at least `slowMs` and, while its probe is in
   * flight, until that probe's time limit has run out (nothing is learnt before); doubling
   * each time in a row, up to maxHoldMs.
   */
  private suspectHold(s: WebhookState, now: number): number {
    const probeEndsIn = s.inFlight > 0 && this.options.timeoutMs !== undefined ? s.lastEndAt + this.options.timeoutMs - now : 0;
    const base = Math.max(this.options.slowMs, s.avgMs, now - s.lastEndAt, probeEndsIn);
    return Math.round(doubledInARow(s, base, this.maxHoldMs));
  }

  /**
   * A new webhook's wait while the new share is full. When only new webhooks' attempts fill it,
   * about as long as they have been in flight: a moment while they answer quickly (a workspace
   * with a thousand new webhooks on one topic has them all probed within a second, where a
   * fixed second, doubling, took minutes), up to a second while they hang, and twice as long
   * each time in a row once they have hung for half of `slowMs` (a crowd of new webhooks that
   * all hang is not claimed over and over). When suspect ones fill the untrusted half, whose
   * attempts can last the whole timeout: a second, doubling.
   */
  private newShareHold(s: WebhookState, now: number, suspectsFill: boolean): number {
    const max = Math.max(MAX_ANSWERING_HOLD_MS, this.options.timeoutMs ?? 0);
    if (suspectsFill) return doubledInARow(s, FULL_NEW_SHARE_HOLD_MS, max);
    let oldest = 0;
    for (const h of this.newHolders) if (h.inFlight > 0) oldest = Math.max(oldest, now - h.lastEndAt);
    const base = Math.max(MIN_HOLD_MS, Math.min(FULL_NEW_SHARE_HOLD_MS, oldest));
    return oldest >= this.options.slowMs / 2 ? doubledInARow(s, base, max) : base;
  }

  /** Spread by up to 40 % (within maxHoldMs): webhooks probed together (a crowd of new ones) are not all back together. */
  private holdWhole(webhookId: string, s: WebhookState, now: number, holdMs: number): Admission {
    s.heldInARow++;
    s.heldUntil = now + Math.round(Math.min(this.maxHoldMs, holdMs * (1 + 0.4 * Math.random())));
    this.heldWhole.set(webhookId, s);
    return { admitted: false, retryAt: s.heldUntil, webhook: true };
  }

  /**
   * The webhooks held back as a whole now, with when each hold ends:
   * the worker's claims pass over their deliveries (Store.claimDue) and, from time to time,
   * hold back those that came due meanwhile (Store.holdWebhooks). And those whose hold has
   * ended since the last call without an answer (new or suspect still): their next attempt is
   * a probe, one delivery (Store.claimFirstDue), not all those that piled up behind the hold.
   */
  heldNow(now: number): HeldWebhooks {
    const found: HeldWebhooks = { held: [], probing: [], ended: [] };
    for (const [webhookId, s] of this.heldWhole) {
      // A new webhook's probe that hangs makes it suspect: held back until the probe's time limit.
      if (s.probing && s.heldUntil <= now && this.hangs(s, now)) s.heldUntil = s.lastEndAt + this.probeLimitMs();
      const until = Math.max(s.heldUntil, s.circuitUntil);
      if (until > now) found.held.push({ webhookId, until });
      else if (s.probing) found.probing.push(webhookId);
      else {
        this.heldWhole.delete(webhookId);
        if (s.standing !== 'answering') found.ended.push(webhookId);
      }
    }
    return found;
  }

  /** Takes one attempt off the webhook's count and its share's. */
  private release(s: WebhookState): void {
    s.inFlight = Math.max(0, s.inFlight - 1);
    if (s.heldSuspect > 0) {
      s.heldSuspect--;
      this.heldSuspect--;
    } else if (s.heldNew > 0) {
      s.heldNew--;
      this.heldNew--;
      if (s.heldNew === 0) this.newHolders.delete(s);
    }
  }

  /** An admitted attempt that did not start after all (its webhook's rate held it back). */
  cancel(webhookId: string): void {
    const s = this.states.get(webhookId);
    if (!s) return;
    this.release(s);
    // A probe that did not start: nothing will end it (done()), so nothing may wait for it.
    if (s.probing && s.inFlight === 0) {
      s.probing = false;
      s.heldUntil = 0;
    }
  }

  /**
   * An attempt ended. `unreachable` means it timed out or could not connect: a sign of an
   * overloaded or dead receiver, unlike a quick error status, which says nothing of capacity.
   */
  done(webhookId: string, durationMs: number, unreachable: boolean): void {
    const s = this.state(webhookId);
    this.release(s);
    s.lastEndAt = Date.now();
    s.avgMs = s.avgMs === 0 ? durationMs : s.avgMs * 0.8 + durationMs * 0.2;
    const slow = unreachable || durationMs >= this.options.slowMs;
    s.standing = slow ? 'suspect' : 'answering';
    if (!slow) s.heldUntil = s.circuitUntil = 0; // answering again: what arrives from now on may go
    else if (s.probing) s.heldUntil = Math.min(s.heldUntil, s.lastEndAt); // the probe failed: the next probe may go
    s.probing = false;
    if (slow) s.limit = Math.max(1, Math.floor(s.limit / 2));
    else s.limit = Math.min(this.options.maxPerWebhook, s.limit + 1);
  }

  private forgetIdle(): void {
    for (const [id, s] of this.states) {
      if (s.inFlight > 0) continue;
      this.states.delete(id);
      this.heldWhole.delete(id);
    }
  }
}

/** Deliveries of rate-limited webhooks, split into those that may start now and those that wait. */
export interface RateShares {
  start: ClaimedDelivery[];
  wait: { delivery: ClaimedDelivery; at: number }[];
}

/**
 * Asks the store once per webhook (not once per delivery) how many of its claimed deliveries
 * its rate limit lets go now. Those held back wait one send interval apart from when the next
 * may go, so that they come due about as fast as they can be sent instead of all at once.
 * When the store cannot answer, none of them go, and they come back a second later.
 */
export async function takeRateShares(
  store: RateStore,
  byWebhook: Map<string, ClaimedDelivery[]>,
  now: number,
  log: Logger,
): Promise<RateShares> {
  const shares: RateShares = { start: [], wait: [] };
  await Promise.all(
    [...byWebhook.values()].map(async (group) => {
      const perSecond = group[0]!.webhook.rateLimit!;
      let grant = { granted: 0, retryAt: now + 1000 };
      try {
        grant = await store.takeRateTokens(group[0]!.webhook.id, perSecond, group.length, now);
      } catch (err) {
        log.error({ err, webhook: group[0]!.webhook.id }, 'taking rate-limit tokens failed; holding its deliveries back for 1 s');
      }
      shares.start.push(...group.slice(0, grant.granted));
      const interval = rateInterval(perSecond);
      group.slice(grant.granted).forEach((delivery, i) => shares.wait.push({ delivery, at: grant.retryAt + Math.floor(i * interval) }));
    }),
  );
  return shares;
}

/** `base` doubled for each time in a row the webhook has been held back (at most 2^10), up to `max`. */
function doubledInARow(s: WebhookState, base: number, max: number): number {
  return Math.min(max, base * 2 ** Math.min(10, s.heldInARow));
}
