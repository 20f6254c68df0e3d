import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { HealthEffect } from '../domain/health.js';
import type { SecretBox } from '../domain/secret-box.js';
import type { QueueStore, RateStore } from '../store/store.js';
import { VERSION } from '../version.js';
import { AttemptRunner } from './attempt.js';
import { HttpSender } from './http-sender.js';
import { WebhookLimiter } from './limits.js';
import { reportAttempt, type AttemptReport } from './report.js';
import { DeliveryWorker } from './worker.js';

// The delivery side of Herald, assembled from the configuration the same way whether it runs
// on the main thread or in a delivery thread of its own (thread.ts).

/** What the delivery side tells the rest of Herald. */
export interface DeliveryEvents {
  attempted(reports: AttemptReport[]): void;
  health(effects: HealthEffect[]): void;
}

/** A delivery loop, wherever it runs. */
export interface DeliveryLoop {
  start(): void;
  /** New work may be due: stop sleeping. */
  wake(): void;
  /** Stops claiming, lets attempts in flight finish and records them. */
  stop(): Promise<void>;
  /** Resolves once nothing is due and nothing is in flight (tests wait on it). */
  whenIdle(): Promise<void>;
}

export function createSender(config: Config, secrets: SecretBox): { sender: HttpSender; runner: AttemptRunner } {
  const sender = new HttpSender({ timeoutMs: config.deliveryTimeoutMs, allowPrivateTargets: config.allowPrivateTargets, egressProxy: config.egressProxy });
  const runner = new AttemptRunner({
    sender,
    secrets,
    retry: { maxRetries: config.maxRetries, baseMs: config.retryBaseMs, factor: config.retryFactor },
    headerPrefix: config.headerPrefix,
    userAgent: `Herald/${VERSION}`,
  });
  return { sender, runner };
}

/**
 * Per-webhook admission: a webhook is probed one attempt at a time until it has answered, then
 * starts with 8 attempts in flight (or fewer, if that is the most); webhooks without a recent
 * quick answer share at most half of the worker's `slots` (limits.ts).
 */
export function createLimiter(config: Config, slots = config.workerConcurrency): WebhookLimiter {
  return new WebhookLimiter({
    maxPerWebhook: config.webhookConcurrency,
    initialPerWebhook: Math.min(8, config.webhookConcurrency),
    newPerWebhook: 1,
    slowMs: 2_000,
    workerSlots: slots,
    timeoutMs: config.deliveryTimeoutMs,
  });
}

/**
 * The delivery worker, telling `events` about its attempts in batches: all the attempts that
 * finish in one turn of the event loop are reported together (one message per batch from a
 * delivery thread).
 */
export function createWorker(config: Config, store: QueueStore & RateStore, runner: AttemptRunner, log: Logger, events: DeliveryEvents): DeliveryWorker {
  let reports: AttemptReport[] = [];
  const report = () => {
    const batch = reports;
    reports = [];
    events.attempted(batch);
  };
  return new DeliveryWorker(
    store,
    runner,
    createLimiter(config),
    {
      concurrency: config.workerConcurrency,
      leaseMs: config.leaseMs,
      health: {
        threshold: config.circuitThreshold,
        cooldownMs: config.circuitCooldownMs,
        maxCooldownMs: Math.max(config.circuitCooldownMs, 600_000),
        disableAfterMs: config.disableAfterMs,
      },
    },
    log,
    {
      onResult: (result, delivery) => {
        if (reports.push(reportAttempt(result, delivery)) === 1) setImmediate(report);
      },
      onHealth: (effects) => events.health(effects),
    },
  );
}
