import type { FanOutPlanner, PublishBatch, PublishOutcome, Store } from '../store/store.js';

/**
 * Group commit for publishing: every publish that arrives within one turn of the event loop
 * is written in one transaction, so a burst of single-event requests costs one disk sync,
 * not one each. Each caller still gets its answer only after the commit.
 */
export class Publisher {
  private queue: { batch: PublishBatch; resolve: (r: PublishOutcome[] | null) => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;

  constructor(
    private readonly store: Store,
    private readonly planner: FanOutPlanner,
    private readonly onPublished: (deliveries: number) => void,
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
      let deliveries = 0;
      for (const r of results) for (const o of r ?? []) if (o.created) deliveries += o.event.deliveries;
      pending.forEach((p, i) => p.resolve(results[i]!));
      if (deliveries > 0) this.onPublished(deliveries);
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
            if (r[0]?.some((o) => o.created && o.event.deliveries > 0)) this.onPublished(1);
          },
          p.reject,
        );
      }
    }
  }
}
