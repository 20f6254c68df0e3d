import type { Logger } from 'pino';
import type { HealthEffect, HealthPolicy } from '../domain/health.js';
import type { AttemptResult, ClaimedDelivery, QueueStore, RateStore } from '../store/store.js';
import type { AttemptRunner } from './attempt.js';
import { takeRateShares, type WebhookLimiter } from './limits.js';

// The delivery loop. States:
//   sleeping  — nothing is due: waits until the next retry is due, or until wake() (a publish,
//               a manual retry, a freed slot) cuts the wait short;
//   claiming  — takes as many due deliveries as there are free slots, under a lease; those
//               whose webhook may not take another attempt now (its concurrency, share, rate
//               or circuit) go back to the queue, due when they may be admitted, and when the
//               webhook itself is held back, all its due deliveries with them (limits.ts).
//               While a webhook is held back, claims pass over its deliveries, and those that
//               come due meanwhile (its new events) are held back in the background every
//               HELD_SWEEP_MS: healthy deliveries never queue behind them;
//   full      — every slot is busy: waits for one to free;
//   stopping  — claims nothing more, lets in-flight attempts finish and records them.
// Idle is sleeping with nothing due and nothing in flight (or stopped): whenIdle() waits for it,
// so that a test can show that nothing more will be sent without sleeping for a while.
// Results are written in groups: every result that arrives in one turn of the event loop is
// recorded in one transaction.

/** Shortest sleep after a claim that found nothing, though the queue says something is due. */
const MIN_WAIT_MS = 50;
/** Most webhooks a claim passes over (and a sweep holds back): the list goes with every one. */
const MAX_SKIPPED = 5_000;
/**
 * How often the deliveries that came due for webhooks held back as a whole are held back with
 * them (PostgreSQL, 1,000 hanging webhooks, 60 s: healthy p99 129-131 ms at 250 ms, 92-111 ms at 100).
 */
const HELD_SWEEP_MS = 100;
/**
 * Holds at least this long are also written to the queue (the webhook's due deliveries moved to
 * the hold's end); shorter ones are only passed over by the claims. A new webhook waiting for
 * the new share is held for tens of milliseconds: with 1,000 new webhooks and 200 events queued
 * for each, moving them wrote 38,000 rows per claim round and held the queue for 90-140 ms.
 */
const MOVE_HOLD_MS = 1_000;
/** A sweep looks at what came due since the one before, and this much earlier (a publish that committed late). */
const SWEEP_OVERLAP_MS = 1_000;

export interface WorkerOptions {
  concurrency: number;
  leaseMs: number;
  /** Longest sleep when nothing is due (guards against a missed wake-up). */
  maxIdleMs?: number;
  health?: HealthPolicy;
}

export interface WorkerHooks {
  /** Each attempt's result, with the delivery it was for (metrics, Herald's own events). */
  onResult?(result: AttemptResult, delivery: ClaimedDelivery): void;
  /** Circuits opened and webhooks disabled by the results just recorded. */
  onHealth?(effects: HealthEffect[]): void;
}

export class DeliveryWorker {
  private inFlight = 0;
  private stopping = false;
  private running: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private results: AttemptResult[] = [];
  private flushScheduled = false;
  private flushing: Promise<void> = Promise.resolve();
  private readonly idle = new Set<() => void>();
  /** Sleeping with nothing due and nothing in flight; cleared by any wake-up. */
  private parked = false;
  private readonly idleWaiters: (() => void)[] = [];
  /** The earliest time at which a delivery given back by the last admit() may be admitted. */
  private admissibleAt = Infinity;
  /** Webhooks whose hold ended without an answer: their next claim is one delivery, a probe (limits.ts heldNow). */
  private readonly probesDue = new Set<string>();
  /** The background hold of held webhooks' newly due deliveries (sweepHeld), while it runs. */
  private sweeping: Promise<void> | null = null;
  private lastSweepAt = 0;
  /** Webhooks held back for a second or more that a sweep has looked at since their hold began. */
  private readonly swept = new Set<string>();

  constructor(
    private readonly store: QueueStore & RateStore,
    private readonly runner: AttemptRunner,
    private readonly limiter: WebhookLimiter,
    private readonly options: WorkerOptions,
    private readonly log: Logger,
    private readonly hooks: WorkerHooks = {},
  ) {}

  start(): void {
    if (this.running) return;
    this.stopping = false;
    this.running = this.loop().catch((err) => {
      this.log.fatal({ err }, 'delivery loop crashed');
      throw err;
    });
  }

  /** New work may be due: stop sleeping. */
  wake(): void {
    this.woken = true;
    this.parked = false;
    this.wakeUp?.();
  }

  /** Stops claiming, waits for the attempts in flight, records them. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.running?.catch(() => undefined);
    this.running = null;
    await this.sweeping;
    // A slot is freed once its result is recorded, so this also waits for those records.
    while (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.add(resolve));
    await this.flush();
    this.settle();
  }

  /**
   * Resolves once nothing is due and nothing is in flight: the loop sleeps until a retry falls
   * due or something wakes it, or it is stopped. A wake() before the call counts as work.
   */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.inFlight === 0 && (this.parked || this.running === null);
  }

  /** Resolves the whenIdle() callers, if idle (costs nothing when nobody waits). */
  private settle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  get busy(): number {
    return this.inFlight;
  }

  private async loop(): Promise<void> {
    const { concurrency, leaseMs } = this.options;
    const maxIdle = this.options.maxIdleMs ?? 30_000;
    while (!this.stopping) {
      this.woken = false;
      const free = concurrency - this.inFlight;
      if (free <= 0) {
        if (!this.woken) await this.sleep(maxIdle);
        continue;
      }
      const now = Date.now();
      let claimed: ClaimedDelivery[];
      let dispatched: number;
      let heldWebhooks: number;
      try {
        claimed = await this.claim(now, free, now + leaseMs);
        ({ started: dispatched, heldWebhooks } = await this.admit(claimed, now));
      } catch (err) {
        this.log.error({ err }, 'claiming deliveries failed; trying again in 1 s');
        await this.sleep(1000);
        continue;
      }
      if (claimed.length === free) {
        // Maybe more is due: claim again now if slots are left, else when one frees.
        // (A slot that freed while the database answered has already set `woken`.)
        if (this.woken || (dispatched > 0 && dispatched < free)) continue;
        if (heldWebhooks > 0) {
          // Their webhooks' other due deliveries were held back with them: what is due next is
          // other webhooks' (healthy ones behind a crowd of suspect ones). Claim it now.
          await new Promise<void>((resolve) => setImmediate(resolve));
          continue;
        }
        // None could be admitted (their webhooks are at their concurrency, rate or circuit
        // limits) and the backlog behind them is likely the same: wait for a slot to free or
        // the earliest of them to become admissible, rather than spin through the backlog
        // without ever yielding to I/O (which starved the API and the attempts in flight).
        const wait = dispatched === 0 ? Math.max(1, this.admissibleAt - Date.now()) : maxIdle;
        await this.sleep(Math.min(maxIdle, wait));
        continue;
      }
      if (this.woken) continue;
      let due: number | null = null;
      try {
        due = await this.store.nextDueAt();
      } catch (err) {
        this.log.error({ err }, 'reading the next due time failed');
      }
      // Something due that nothing could claim must not turn this loop into a spin that starves the process.
      const floor = claimed.length === 0 ? MIN_WAIT_MS : 0;
      const wait = due === null ? maxIdle : Math.min(maxIdle, Math.max(floor, due - Date.now()));
      if (wait > 0 && !this.woken) {
        this.parked = due === null || due > Date.now();
        this.settle();
        await this.sleep(wait);
        this.parked = false;
      }
    }
  }

  /**
   * Starts the attempts whose webhook may take one now; gives the others back (and holds back
   * the due deliveries of webhooks held back as a whole). Returns how many started, and how
   * many webhooks were held back.
   */
  private async admit(claimed: ClaimedDelivery[], now: number): Promise<{ started: number; heldWebhooks: number }> {
    const later: { seq: number; claim: number; at: number }[] = [];
    const webhooks = new Map<string, number>();
    const holdBack = (d: ClaimedDelivery, at: number, webhook = false) => {
      later.push({ seq: d.seq, claim: d.claim, at });
      this.admissibleAt = Math.min(this.admissibleAt, at);
      if (webhook) webhooks.set(d.webhook.id, Math.max(at, webhooks.get(d.webhook.id) ?? 0));
    };
    // Deliveries of rate-limited webhooks, admitted so far, that still need their webhook's share of the rate.
    const rated = new Map<string, ClaimedDelivery[]>();
    let started = 0;
    this.admissibleAt = Infinity;
    for (const d of claimed) {
      // A disabled webhook's delivery is closed without an attempt; no slot is needed.
      if (d.webhook.enabled) {
        // A manual retry (a cycle of one attempt) is someone asking for an attempt now: it
        // passes an open circuit, though not the webhook's concurrency or rate.
        const openUntil = d.cycleLimit === 1 ? null : d.webhook.openUntil;
        const admission = this.limiter.admit(d.webhook.id, openUntil, now);
        if (!admission.admitted) {
          holdBack(d, admission.retryAt, admission.webhook);
          continue;
        }
        if (d.webhook.rateLimit !== null && d.webhook.rateLimit > 0) {
          const group = rated.get(d.webhook.id);
          if (group) group.push(d);
          else rated.set(d.webhook.id, [d]);
          continue;
        }
      }
      this.dispatch(d);
      started++;
    }
    if (rated.size > 0) {
      // The rate is kept in the database, so that it holds across workers: one call per webhook.
      const shares = await takeRateShares(this.store, rated, Date.now(), this.log);
      for (const d of shares.start) this.dispatch(d);
      started += shares.start.length;
      for (const { delivery, at } of shares.wait) {
        this.limiter.cancel(delivery.webhook.id);
        holdBack(delivery, at);
      }
    }
    if (later.length > 0) await this.store.releaseClaims(later, now);
    const holds = webhooks.size === 0 ? [] : longHolds([...webhooks].map(([webhookId, until]) => ({ webhookId, until })), now);
    if (holds.length > 0) {
      // Only a shortcut: deliveries it misses are claimed and given back one by one.
      await this.store.holdWebhooks(holds, now).catch((err) => this.log.warn({ err }, 'holding back webhooks failed'));
    }
    return { started, heldWebhooks: webhooks.size };
  }

  /**
   * Up to `free` due deliveries: first the probes of webhooks whose hold ended (one delivery
   * each), then the earliest due of the others, passing over the webhooks held back or probing.
   * The list of those goes with every claim, so it is capped: a webhook left off it is claimed
   * and given back, as without the list.
   */
  private async claim(now: number, free: number, leaseUntil: number): Promise<ClaimedDelivery[]> {
    const { held, probing, ended } = this.limiter.heldNow(now);
    for (const id of ended) this.probesDue.add(id);
    if (held.length === 0 && this.swept.size > 0) this.swept.clear(); // a later hold is a new one
    if (held.length === 0 && probing.length === 0 && this.probesDue.size === 0) return this.store.claimDue(now, free, leaseUntil);
    if (held.length > 0) this.sweepHeld(held, now);
    const probes = [...this.probesDue].slice(0, free);
    for (const id of probes) this.probesDue.delete(id);
    const first = probes.length > 0 ? await this.store.claimFirstDue(now, probes, leaseUntil) : [];
    if (first.length === free) return first;
    const skip = [...held.map((h) => h.webhookId), ...probing, ...probes, ...this.probesDue].slice(0, MAX_SKIPPED);
    return first.concat(await this.store.claimDue(now, free - first.length, leaseUntil, skip));
  }

  /**
   * Holds back the deliveries that came due for webhooks held back as a whole (their events
   * published since the hold began), at most every HELD_SWEEP_MS and one sweep at a time, beside
   * the claims: claims pass over them, but each one passed over still costs every claim a look.
   */
  private sweepHeld(held: { webhookId: string; until: number }[], now: number): void {
    if (this.sweeping || now - this.lastSweepAt < HELD_SWEEP_MS) return;
    const long = longHolds(held, now).slice(0, MAX_SKIPPED);
    const ids = new Set(long.map((h) => h.webhookId));
    for (const id of this.swept) if (!ids.has(id)) this.swept.delete(id);
    if (long.length === 0) return;
    // A webhook swept before needs only what came due since (the rest was moved then); one held
    // since the last sweep, all its due deliveries (a probe that hangs holds its webhook without
    // an admit() that moved them). What a sweep misses is still passed over by the claims.
    const fresh = long.filter((h) => !this.swept.has(h.webhookId));
    const known = long.filter((h) => this.swept.has(h.webhookId));
    for (const h of fresh) this.swept.add(h.webhookId);
    const dueAfter = this.lastSweepAt - SWEEP_OVERLAP_MS;
    this.lastSweepAt = now;
    const first = fresh.length > 0
      ? this.store.holdWebhooks(fresh, now).catch((err) => {
        for (const h of fresh) this.swept.delete(h.webhookId); // their first sweep is still to come
        throw err;
      })
      : null;
    // One sweep at a time: both parts end before the next may start.
    this.sweeping = Promise.allSettled([first, known.length > 0 ? this.store.holdWebhooks(known, now, dueAfter) : null])
      .then((parts) => {
        for (const p of parts) if (p.status === 'rejected') this.log.warn({ err: p.reason }, 'holding back the deliveries of held webhooks failed');
      })
      .finally(() => { this.sweeping = null; });
  }

  private dispatch(delivery: ClaimedDelivery): void {
    this.inFlight++;
    this.runner.run(delivery).then(
      (result) => this.finished(delivery, result),
      (err) => {
        // run() never throws; if it does, the lease brings the delivery back later.
        this.log.error({ err, delivery: delivery.id }, 'attempt crashed');
        this.finished(delivery, null);
      },
    );
  }

  private finished(delivery: ClaimedDelivery, result: AttemptResult | null): void {
    if (delivery.webhook.enabled) {
      const attempt = result?.attempt;
      this.limiter.done(delivery.webhook.id, attempt?.durationMs ?? 0, !attempt || attempt.statusCode === null);
    }
    if (!result) {
      this.release(1);
      return;
    }
    try {
      this.hooks.onResult?.(result, delivery);
    } catch (err) {
      // A listener's bug must not keep the slot taken (the result is still recorded).
      this.log.error({ err, delivery: delivery.id }, 'an onResult listener threw');
    }
    // The slot stays taken until the result is recorded: at any moment, at most `concurrency`
    // deliveries have been sent without their outcome being durable (what a crash can repeat).
    this.results.push(result);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /** Frees the slots of attempts whose results are recorded (or given up on). */
  private release(slots: number): void {
    this.inFlight -= slots;
    if (this.inFlight === 0) {
      for (const resolve of this.idle) resolve();
      this.idle.clear();
    }
    this.wake(); // a slot is free
  }

  /** Records the results gathered so far in one transaction; serialised with earlier flushes. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      this.flushScheduled = false;
      const batch = this.results;
      if (batch.length === 0) return;
      this.results = [];
      try {
        const effects = await this.store.recordResults(batch, Date.now(), this.options.health);
        if (effects.length > 0) this.hooks.onHealth?.(effects);
      } catch (err) {
        // The claims' leases bring these deliveries back; at-least-once holds.
        this.log.error({ err, count: batch.length }, 'recording attempt results failed');
      } finally {
        this.release(batch.length);
      }
    });
    return this.flushing;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.wakeUp === done) self.wakeUp = null;
        resolve();
      }
      this.wakeUp = done;
    });
  }
}

/** The holds long enough to be written to the queue (MOVE_HOLD_MS); shorter ones are only passed over. */
function longHolds(holds: { webhookId: string; until: number }[], now: number): { webhookId: string; until: number }[] {
  return holds.filter((h) => h.until - now >= MOVE_HOLD_MS);
}
