import type { Logger } from 'pino';
import type { RetentionStore } from '../store/store.js';

/**
 * Purges events (with their deliveries and attempts) older than the retention period, in
 * small batches with a pause between them, so that housekeeping never stalls delivery.
 */
export class Retention {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private stopped = false;

  constructor(
    private readonly store: RetentionStore,
    private readonly days: number,
    private readonly log: Logger,
    private readonly options = { everyMs: 60_000, batch: 500, pauseMs: 20 },
  ) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => void this.runOnce(), this.options.everyMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass: batches until nothing old is left. Returns how many events went. */
  async runOnce(now = Date.now()): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let total = 0;
    try {
      const before = now - this.days * 86_400_000;
      for (;;) {
        const n = await this.store.purge(before, this.options.batch);
        total += n;
        // Stop between batches once stop() was called (not merely because no timer runs: a
        // pass started directly, e.g. by runOnce(), goes on until nothing old is left).
        if (n < this.options.batch || this.stopped) break;
        await new Promise((resolve) => setTimeout(resolve, this.options.pauseMs));
      }
      if (total > 0) this.log.info({ events: total }, 'purged events past the retention period');
    } catch (err) {
      this.log.error({ err }, 'purging old events failed');
    } finally {
      this.running = false;
    }
    return total;
  }
}
