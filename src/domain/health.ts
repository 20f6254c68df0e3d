// Health of a webhook's receiver, from its attempts: the circuit breaker and auto-disable.
//
//   closed    — attempts flow, up to the webhook's concurrency;
//   open      — after `threshold` failures in a row, its deliveries wait (not counted as
//               attempts) until `openUntil`; each reopening waits twice as long, up to `maxCooldownMs`;
//   half-open — once `openUntil` has passed, one attempt at a time probes the receiver: a
//               success closes the circuit, a failure opens it again.
// Independently, a webhook whose every attempt has failed for `disableAfterMs` is disabled.

export interface WebhookHealth {
  consecutiveFailures: number;
  /** When the current run of failures began; null after a success. */
  failingSince: number | null;
  /** Set while the circuit is open or half-open. */
  openUntil: number | null;
}

export interface HealthPolicy {
  threshold: number;
  cooldownMs: number;
  maxCooldownMs: number;
  disableAfterMs: number;
}

export const HEALTHY: WebhookHealth = { consecutiveFailures: 0, failingSince: null, openUntil: null };

export type HealthEffect =
  | { kind: 'circuit-opened'; webhookId: string; until: number }
  | { kind: 'disabled'; webhookId: string; reason: string };

export interface HealthStep {
  health: WebhookHealth;
  opened: number | null;
  disabledReason: string | null;
}

export function afterAttempt(policy: HealthPolicy, health: WebhookHealth, ok: boolean, now: number): HealthStep {
  if (ok) return { health: HEALTHY, opened: null, disabledReason: null };
  const failingSince = health.failingSince ?? now;
  if (health.openUntil !== null && now < health.openUntil) {
    // The circuit is open, so this attempt was already in flight when it opened (the others
    // of the same burst): it says nothing new, and neither extends the wait nor doubles the
    // next one, or a burst of concurrent failures would make the first wait 2^burst as long.
    const disabledReason = now - failingSince >= policy.disableAfterMs
      ? `every attempt failed since ${new Date(failingSince).toISOString()} (${health.consecutiveFailures} in a row)`
      : null;
    return { health: { ...health, failingSince }, opened: null, disabledReason };
  }
  const failures = health.consecutiveFailures + 1;
  let openUntil = health.openUntil;
  let opened: number | null = null;
  if (failures >= policy.threshold) {
    const cooldown = Math.min(policy.maxCooldownMs, policy.cooldownMs * 2 ** Math.min(30, failures - policy.threshold));
    openUntil = now + cooldown;
    opened = openUntil;
  }
  const disabledReason =
    now - failingSince >= policy.disableAfterMs
      ? `every attempt failed since ${new Date(failingSince).toISOString()} (${failures} in a row)`
      : null;
  return { health: { consecutiveFailures: failures, failingSince, openUntil }, opened, disabledReason };
}

export type CircuitState = 'closed' | 'open' | 'half-open';

export function circuitState(health: Pick<WebhookHealth, 'openUntil'>, now: number): CircuitState {
  if (health.openUntil === null) return 'closed';
  return now < health.openUntil ? 'open' : 'half-open';
}

/** Herald's own topics, emitted into the workspace like any other event. */
export const HERALD_TOPICS = [
  {
    name: 'webhook.disabled',
    label: 'Webhook Disabled',
    description: 'Sent by Herald when it disables a webhook whose every attempt has been failing for days.',
    sample: {
      webhook_id: 'wh_01JC8Y3Q4B6M2N8P0R2T4V6X8Z',
      topic: 'walletreward_create',
      url: 'https://hooks.example.com/nector',
      disabled_reason: 'every attempt failed since 2026-11-22T09:00:00.000Z (60 in a row)',
    },
  },
  {
    name: 'delivery.failed',
    label: 'Delivery Failed',
    description: 'Sent by Herald when a delivery has used up its retries.',
    sample: {
      delivery_id: 'dlv_01JC8Y3Q4B6M2N8P0R2T4V6X8Z',
      event_id: 'evt_01JC8Y3Q4B6M2N8P0R2T4V6X8Y',
      webhook_id: 'wh_01JC8Y3Q4B6M2N8P0R2T4V6X8Z',
      topic: 'walletreward_create',
      url: 'https://hooks.example.com/nector',
      attempts: 6,
      last_status_code: 500,
      last_error: 'HTTP 500',
      data: { customer_id: '7723901884523', amount: 250, operation: 'cr' },
    },
  },
] as const;

export function isHeraldTopic(topic: string): boolean {
  return topic === 'webhook.disabled' || topic === 'delivery.failed';
}

/** One attempt's bearing on its webhook's health. */
export interface HealthOutcome {
  webhookId: string;
  ok: boolean;
}

/**
 * The outcomes that count for health, in order: results that were recorded (`recorded`: their
 * claim was still current) and made an attempt (a disabled webhook's delivery closed without
 * one says nothing of its receiver).
 */
export function healthOutcomes<R extends { webhookId: string; status: string; attempt: object | null }>(
  results: readonly R[],
  recorded: (result: R, index: number) => boolean,
): HealthOutcome[] {
  const outcomes: HealthOutcome[] = [];
  results.forEach((r, i) => {
    if (r.attempt !== null && recorded(r, i)) outcomes.push({ webhookId: r.webhookId, ok: r.status === 'succeeded' });
  });
  return outcomes;
}

/** The webhooks whose stored health planHealth needs: those that failed in the batch. */
export function healthToRead(outcomes: readonly HealthOutcome[]): string[] {
  return [...new Set(outcomes.filter((o) => !o.ok).map((o) => o.webhookId))];
}

export interface HealthPlan {
  /** Webhooks whose last result in the batch was a success: their health row goes. */
  healed: string[];
  /** New health of webhooks that failed in the batch. */
  failing: Map<string, WebhookHealth>;
  /** Circuits that open: the webhook's pending deliveries wait until then, without counting as attempts. */
  opened: { webhookId: string; until: number }[];
  /** Webhooks to switch off (those still on). */
  disable: { webhookId: string; reason: string }[];
  effects: HealthEffect[];
}

/**
 * What to announce once a plan is written: every opened circuit, and a disable only for the
 * webhooks that the write switched off (`switchedOff`): failures of attempts still in flight
 * when a webhook was disabled neither disable it nor announce it again.
 */
export function appliedEffects(plan: HealthPlan, switchedOff: ReadonlySet<string>): HealthEffect[] {
  return plan.effects.filter((e) => e.kind !== 'disabled' || switchedOff.has(e.webhookId));
}

/**
 * Folds a batch of attempt outcomes (in order) into each webhook's health. `current` holds
 * the stored health of the webhooks that failed in the batch (missing = healthy).
 * Outcomes without an attempt (a disabled webhook's delivery) say nothing of health.
 */
export function planHealth(
  policy: HealthPolicy,
  outcomes: readonly HealthOutcome[],
  current: ReadonlyMap<string, WebhookHealth>,
  now: number,
): HealthPlan {
  const state = new Map<string, WebhookHealth>();
  const opened = new Map<string, number>();
  const disabled = new Map<string, string>();
  for (const { webhookId, ok } of outcomes) {
    const before = state.get(webhookId) ?? current.get(webhookId) ?? HEALTHY;
    const step = afterAttempt(policy, before, ok, now);
    state.set(webhookId, step.health);
    if (step.opened !== null) opened.set(webhookId, step.opened);
    else if (ok) opened.delete(webhookId);
    if (step.disabledReason !== null) disabled.set(webhookId, step.disabledReason);
    else if (ok) disabled.delete(webhookId);
  }
  const healed: string[] = [];
  const failing = new Map<string, WebhookHealth>();
  for (const [id, h] of state) {
    if (h.consecutiveFailures === 0) healed.push(id);
    else failing.set(id, h);
  }
  const openedList = [...opened].map(([webhookId, until]) => ({ webhookId, until }));
  const disable = [...disabled].map(([webhookId, reason]) => ({ webhookId, reason }));
  const effects: HealthEffect[] = [
    ...openedList.map((o) => ({ kind: 'circuit-opened' as const, ...o })),
    ...disable.map((d) => ({ kind: 'disabled' as const, ...d })),
  ];
  return { healed, failing, opened: openedList, disable, effects };
}
