import type { PublishBatch, PublishOutcome, PublishStore } from '../store/store.js';

/**
 * Commits under way at once; publishes that arrive meanwhile wait and share the next one.
 * Measured at 1,000 single-event publishes/s on PostgreSQL (2 cores): 1 gave p50 10.6 ms,
 * p99 26.5 ms; 2 gave 13 / 27 ms; 4 gave 18 / 46 ms; unlimited 33 / 539 ms. On SQLite 1 costs
 * nothing measurable.
 */
const MAX_COMMITS_IN_FLIGHT = 1;

/**
 * Group commit for publishing: every publish that arrives within one turn of the event loop
 * is written in one transaction, and while a commit is under way the publishes that arrive
 * wait for it to end and then share the next one. Under load that turns a
 * transaction (and, on PostgreSQL, a WAL flush) per request into one per group; when idle a
 * publish is written on the next turn. Each caller gets its answer after the commit; waiting
 * for the disk (store.durable) is the caller's, so that it happens once per request.
 */
export class Publisher {
  private queue: { batch: PublishBatch; resolve: (r: PublishOutcome[] | null) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly store: Pick<PublishStore, 'publish'>,
    /** Deliveries were queued: wake the workers. */
    private readonly onQueued: () => void,
  ) {}

  publish(batch: PublishBatch): Promise<PublishOutcome[] | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_COMMITS_IN_FLIGHT || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const pending = this.queue;
    this.queue = [];
    if (pending.length === 0) return;
    this.inFlight++;
    try {
      await this.commit(pending);
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }

  private async commit(pending: typeof this.queue): Promise<void> {
    try {
      const results = await this.store.publish(pending.map((p) => p.batch), Date.now());
      pending.forEach((p, i) => p.resolve(results[i]!));
      this.wakeIfQueued(results);
    } catch (err) {
      // One bad batch must not fail the others that shared its commit: retry them alone.
      if (pending.length === 1) {
        pending[0]!.reject(err);
        return;
      }
      await Promise.all(
        pending.map((p) =>
          this.store.publish([p.batch], Date.now()).then(
            (r) => {
              p.resolve(r[0]!);
              this.wakeIfQueued(r);
            },
            p.reject,
          ),
        ),
      );
    }
  }

  private wakeIfQueued(results: (PublishOutcome[] | null)[]): void {
    if (results.some((r) => r?.some((o) => o.created && o.event.deliveries > 0))) this.onQueued();
  }
}
