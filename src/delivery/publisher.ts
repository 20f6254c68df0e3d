import type { FanOutPlanner, PublishBatch, PublishOutcome, Store } from '../store/store.js';

/**
 * Group commit for publishing: every publish that arrives within one turn of the event loop
 * is written in one transaction. Each caller gets its answer after the commit; waiting for
 * the disk (store.durable) is the caller's, so that it happens once per request.
 */
export class Publisher {
  private queue: { batch: PublishBatch; resolve: (r: PublishOutcome[] | null) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  constructor(
    private readonly store: Store,
    private readonly planner: FanOutPlanner,
    /** Deliveries were queued: wake the workers. */
    private readonly onQueued: () => void,
  ) {}

  publish(batch: PublishBatch): Promise<PublishOutcome[] | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const pending = this.queue;
    this.queue = [];
    try {
      const results = await this.store.publish(pending.map((p) => p.batch), this.planner, Date.now());
      pending.forEach((p, i) => p.resolve(results[i]!));
      this.wakeIfQueued(results);
    } catch (err) {
      // One bad batch must not fail the others that shared its commit: retry them alone.
      if (pending.length === 1) {
        pending[0]!.reject(err);
        return;
      }
      for (const p of pending) {
        this.store.publish([p.batch], this.planner, Date.now()).then(
          (r) => {
            p.resolve(r[0]!);
            this.wakeIfQueued(r);
          },
          p.reject,
        );
      }
    }
  }

  private wakeIfQueued(results: (PublishOutcome[] | null)[]): void {
    if (results.some((r) => r?.some((o) => o.created && o.event.deliveries > 0))) this.onQueued();
  }
}
