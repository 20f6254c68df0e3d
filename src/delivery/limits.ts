// Per-webhook admission, so one bad receiver cannot hurt the others:
//  - concurrency: each webhook starts with a few attempts in flight and earns more with fast
//    successes, up to the configured maximum; timeouts and failures halve it (AIMD). A
//    receiver that hangs for the whole timeout therefore holds a handful of slots, never all.
//  - rate: an optional requests-per-second token bucket per webhook.
//  - circuit: a webhook whose circuit is open waits; half-open allows one probe at a time.
// A delivery that is not admitted goes back to the queue, due again when it may be admitted.

import { circuitState } from '../domain/health.js';

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
  tokens: number;
  tokensAt: number;
}

export type Admission = { admitted: true } | { admitted: false; retryAt: number };

export class WebhookLimiter {
  private readonly states = new Map<string, WebhookState>();

  constructor(private readonly options: LimiterOptions) {}

  private state(id: string): WebhookState {
    let s = this.states.get(id);
    if (!s) {
      if (this.states.size > 100_000) this.forgetIdle();
      s = { inFlight: 0, limit: this.options.initialPerWebhook, avgMs: 0, tokens: -1, tokensAt: 0 };
      this.states.set(id, s);
    }
    return s;
  }

  admit(webhookId: string, openUntil: number | null, rateLimit: number | null, now: number): Admission {
    const s = this.state(webhookId);
    const circuit = circuitState({ openUntil }, now);
    if (circuit === 'open') return { admitted: false, retryAt: openUntil! };
    const limit = circuit === 'half-open' ? 1 : Math.min(s.limit, this.options.maxPerWebhook);
    if (s.inFlight >= limit) {
      // Back when a slot is likely to free: about one attempt's time, bounded.
      return { admitted: false, retryAt: now + Math.min(5_000, Math.max(25, Math.round(s.avgMs))) };
    }
    if (rateLimit !== null && rateLimit > 0) {
      if (s.tokens < 0) {
        s.tokens = rateLimit;
        s.tokensAt = now;
      }
      s.tokens = Math.min(rateLimit, s.tokens + ((now - s.tokensAt) / 1000) * rateLimit);
      s.tokensAt = now;
      if (s.tokens < 1) return { admitted: false, retryAt: now + Math.ceil(((1 - s.tokens) / rateLimit) * 1000) };
      s.tokens -= 1;
    }
    s.inFlight++;
    return { admitted: true };
  }

  /**
   * An attempt ended. `unreachable` means it timed out or could not connect: a sign of an
   * overloaded or dead receiver, unlike a quick error status, which says nothing of capacity.
   */
  done(webhookId: string, durationMs: number, unreachable: boolean): void {
    const s = this.state(webhookId);
    s.inFlight = Math.max(0, s.inFlight - 1);
    s.avgMs = s.avgMs === 0 ? durationMs : s.avgMs * 0.8 + durationMs * 0.2;
    if (unreachable || durationMs >= this.options.slowMs) s.limit = Math.max(1, Math.floor(s.limit / 2));
    else s.limit = Math.min(this.options.maxPerWebhook, s.limit + 1);
  }

  inFlight(webhookId: string): number {
    return this.states.get(webhookId)?.inFlight ?? 0;
  }

  limit(webhookId: string): number {
    return this.states.get(webhookId)?.limit ?? this.options.initialPerWebhook;
  }

  private forgetIdle(): void {
    for (const [id, s] of this.states) if (s.inFlight === 0) this.states.delete(id);
  }
}
