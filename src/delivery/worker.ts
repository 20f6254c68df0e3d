import type { Logger } from 'pino';
import type { AttemptResult, ClaimedDelivery, Store } from '../store/store.js';
import type { AttemptRunner } from './attempt.js';

// The delivery loop. States:
//   sleeping  — nothing is due: waits until the next retry is due, or until wake() (a publish,
//               a manual retry) cuts the wait short;
//   claiming  — takes as many due deliveries as there are free slots, under a lease;
//   full      — every slot is busy: waits for one to free;
//   stopping  — claims nothing more, lets in-flight attempts finish and records them.
// Results are written in groups: every result that arrives in one turn of the event loop is
// recorded in one transaction.

export interface WorkerOptions {
  concurrency: number;
  leaseMs: number;
  /** Longest sleep when nothing is due (guards against a missed wake-up). */
  maxIdleMs?: number;
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

  constructor(
    private readonly store: Store,
    private readonly runner: AttemptRunner,
    private readonly options: WorkerOptions,
    private readonly log: Logger,
    private readonly onResult: (result: AttemptResult) => void = () => undefined,
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
    this.wakeUp?.();
  }

  /** Stops claiming, waits for the attempts in flight, records them. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await this.running?.catch(() => undefined);
    this.running = null;
    while (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.add(resolve));
    await this.flush();
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
        await this.sleep(maxIdle);
        continue;
      }
      const now = Date.now();
      let claimed: ClaimedDelivery[];
      try {
        claimed = await this.store.claimDue(now, free, now + leaseMs);
      } catch (err) {
        this.log.error({ err }, 'claiming deliveries failed; retrying in 1 s');
        await this.sleep(1000);
        continue;
      }
      for (const delivery of claimed) this.dispatch(delivery);
      if (claimed.length === free) {
        // Maybe more is due: come back when a slot frees.
        await this.sleep(maxIdle);
        continue;
      }
      if (this.woken) continue;
      let due: number | null = null;
      try {
        due = await this.store.nextDueAt();
      } catch (err) {
        this.log.error({ err }, 'reading the next due time failed');
      }
      const wait = due === null ? maxIdle : Math.min(maxIdle, Math.max(0, due - Date.now()));
      if (wait > 0 && !this.woken) await this.sleep(wait);
    }
  }

  private dispatch(delivery: ClaimedDelivery): void {
    this.inFlight++;
    this.runner.run(delivery).then(
      (result) => this.finished(result),
      (err) => {
        // run() never throws; if it does, the lease brings the delivery back later.
        this.log.error({ err, delivery: delivery.id }, 'attempt crashed');
        this.finished(null);
      },
    );
  }

  private finished(result: AttemptResult | null): void {
    this.inFlight--;
    if (result) {
      this.onResult(result);
      this.results.push(result);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => void this.flush());
      }
    }
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
        await this.store.recordResults(batch, Date.now());
      } catch (err) {
        // The claims' leases bring these deliveries back; at-least-once holds.
        this.log.error({ err, count: batch.length }, 'recording attempt results failed');
        return;
      }
      // A retry may now be due sooner than the current sleep.
      if (batch.some((r) => r.status === 'pending')) this.wake();
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
