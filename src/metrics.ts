import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { QueueStore } from './store/store.js';
import type { AttemptReport } from './delivery/report.js';

/** Prometheus metrics of one Herald process, on a registry of its own (no globals). */
export class Metrics {
  readonly registry = new Registry();
  private readonly attempts: Counter<'outcome'>;
  private readonly duration: Histogram;
  private readonly webhookFailures: Counter<'webhook_id'>;

  constructor(store: Pick<QueueStore, 'queueStats'>) {
    collectDefaultMetrics({ register: this.registry, prefix: 'herald_process_' });
    this.attempts = new Counter({
      name: 'herald_delivery_attempts_total',
      help: 'Delivery attempts by outcome: succeeded, retrying (failed, will retry), failed (retries used up).',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'herald_attempt_duration_seconds',
      help: 'Duration of delivery attempts, from request to the end of the answer.',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.webhookFailures = new Counter({
      name: 'herald_webhook_failed_attempts_total',
      help: 'Failed delivery attempts per webhook.',
      labelNames: ['webhook_id'],
      registers: [this.registry],
    });
    // Both queue gauges come from one query per scrape: the registry collects every metric at
    // once, so the two collects share the query in flight.
    let inFlight: Promise<{ pending: number; oldestDueAt: number | null }> | null = null;
    const queue = () => {
      inFlight ??= store.queueStats(Date.now()).finally(() => setImmediate(() => (inFlight = null)));
      return inFlight;
    };
    new Gauge({
      name: 'herald_queue_pending',
      help: 'Deliveries waiting for an attempt (due or scheduled).',
      registers: [this.registry],
      async collect() {
        this.set((await queue()).pending);
      },
    });
    new Gauge({
      name: 'herald_queue_oldest_due_seconds',
      help: 'How long the oldest due delivery has been waiting.',
      registers: [this.registry],
      async collect() {
        const { oldestDueAt } = await queue();
        this.set(oldestDueAt === null ? 0 : Math.max(0, (Date.now() - oldestDueAt) / 1000));
      },
    });
  }

  observe(report: AttemptReport): void {
    if (!report.attempt) return;
    this.attempts.inc({ outcome: report.status === 'pending' ? 'retrying' : report.status });
    this.duration.observe(report.attempt.durationMs / 1000);
    if (report.status !== 'succeeded') this.webhookFailures.inc({ webhook_id: report.webhookId });
  }
}
