// Per-webhook admission, so one bad receiver cannot hurt the others:
//  - concurrency: each webhook starts with a few attempts in flight and earns more with fast
//    successes, up to the configured maximum; timeouts and failures halve it (AIMD). A
//    receiver that hangs for the whole timeout therefore holds a handful of slots, never all.
//  - circuit: a webhook whose circuit is open waits; half-open allows one probe at a time.
//  - rate: an optional requests-per-second limit, kept in the database so that it holds
//    across every worker of every node (takeRateShares, Store.takeRateTokens).
// A delivery that is not admitted goes back to the queue, due again when it may be admitted.

import type { Logger } from 'pino';
import { circuitState } from '../domain/health.js';
import { rateInterval } from '../domain/rate.js';
import type { ClaimedDelivery, RateStore } from '../store/store.js';

export interface LimiterOptions {
  /** Most attempts in flight for one webhook. */
  maxPerWebhook: number;
  /** Where a webhook starts, and the floor after failures. */
  initialPerWebhook: number;
  /** An attempt at least this slow counts as a sign of an overloaded receiver. */
  slowMs: number;
}

interface WebhookState {
  inFlight: number;
  limit: number;
  /** Moving average of attempt durations, ms. */
  avgMs: number;
  /** When an attempt last ended, or the first of the current ones started. */
  lastEndAt: number;
}

export type Admission = { admitted: true } | { admitted: false; retryAt: number };

export class WebhookLimiter {
  private readonly states = new Map<string, WebhookState>();

  constructor(private readonly options: LimiterOptions) {}

  private state(id: string): WebhookState {
    let s = this.states.get(id);
    if (!s) {
      if (this.states.size > 100_000) this.forgetIdle();
      s = { inFlight: 0, limit: this.options.initialPerWebhook, avgMs: 0, lastEndAt: 0 };
      this.states.set(id, s);
    }
    return s;
  }

  /** Whether the webhook's circuit and concurrency let one more attempt start now; if so, it counts as in flight. */
  admit(webhookId: string, openUntil: number | null, now: number): Admission {
    const s = this.state(webhookId);
    const circuit = circuitState({ openUntil }, now);
    if (circuit === 'open') return { admitted: false, retryAt: openUntil! };
    const limit = circuit === 'half-open' ? 1 : Math.min(s.limit, this.options.maxPerWebhook);
    if (s.inFlight >= limit) {
      // Back when a slot is likely to free: about one attempt's time, or, when nothing has
      // ended for longer than that (a receiver that hangs), about as long as nothing has ended
      // — so its deliveries are not claimed and given back every few milliseconds. Bounded.
      const estimate = Math.max(s.avgMs, now - s.lastEndAt);
      return { admitted: false, retryAt: now + Math.min(5_000, Math.max(25, Math.round(estimate))) };
    }
    if (s.inFlight === 0) s.lastEndAt = now;
    s.inFlight++;
    return { admitted: true };
  }

  /** An admitted attempt that did not start after all (its webhook's rate held it back). */
  cancel(webhookId: string): void {
    const s = this.states.get(webhookId);
    if (s) s.inFlight = Math.max(0, s.inFlight - 1);
  }

  /**
   * An attempt ended. `unreachable` means it timed out or could not connect: a sign of an
   * overloaded or dead receiver, unlike a quick error status, which says nothing of capacity.
   */
  done(webhookId: string, durationMs: number, unreachable: boolean): void {
    const s = this.state(webhookId);
    s.inFlight = Math.max(0, s.inFlight - 1);
    s.lastEndAt = Date.now();
    s.avgMs = s.avgMs === 0 ? durationMs : s.avgMs * 0.8 + durationMs * 0.2;
    if (unreachable || durationMs >= this.options.slowMs) s.limit = Math.max(1, Math.floor(s.limit / 2));
    else s.limit = Math.min(this.options.maxPerWebhook, s.limit + 1);
  }

  private forgetIdle(): void {
    for (const [id, s] of this.states) if (s.inFlight === 0) this.states.delete(id);
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
