import { threadId } from 'node:worker_threads';

// Atomics.waitAsync is in Node 16+, but in TypeScript's lib only from ES2024.
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number, timeout: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

/** Longest wait for the lock; past it, SQLite's own busy timeout decides. */
const MAX_WAIT_MS = 5_000;
/** Longest a yielding holder waits for the others to have had their turn. */
const MAX_YIELD_MS = 5;
/** The cells of the shared memory: who holds the lock, and how many wait for it; then the due mark. */
const HOLDER = 0;
const WAITING = 1;
/** The due mark when no write has made anything due since it was taken. */
const NO_DUE = 2n ** 63n - 1n;

/**
 * The write lock of one SQLite database, shared by the threads of one process (the API's
 * and the delivery thread, each with its own connection) through a SharedArrayBuffer.
 *
 * SQLite lets one connection write at a time; a connection that finds the database locked
 * sleeps in steps of 1, 2, 5, 10 ms … before it looks again, so two busy connections lose
 * milliseconds to each other on every collision. Taken before BEGIN IMMEDIATE, this lock
 * makes the second writer wait exactly as long as the first one writes (the release wakes
 * it). It holds the id of the thread that holds it, so that a thread that ended
 * while holding it can be released by another (releaseHeldBy).
 */
export class WriteLock {
  readonly buffer: SharedArrayBuffer;
  private readonly cell: Int32Array;
  /** The due mark of every connection that shares this lock (SqliteConnection.markDue). */
  readonly due: DueMark;

  /** A new lock, or (given its buffer) the lock another thread made. */
  constructor(buffer?: SharedArrayBuffer) {
    this.buffer = buffer ?? new SharedArrayBuffer(16);
    this.cell = new Int32Array(this.buffer, 0, 2);
    this.due = new DueMark(new BigInt64Array(this.buffer, 8, 1), !buffer);
  }

  /**
   * Runs `fn` holding the lock (or after MAX_WAIT_MS without it). The wait is asynchronous
   * (Atomics.waitAsync): while one thread writes, the other goes on with its HTTP and API work.
   */
  async hold<T>(fn: () => T): Promise<T> {
    // A free lock is taken without awaiting: `fn` then runs on the caller's turn.
    const held = this.take() || (await this.wait());
    try {
      return fn();
    } finally {
      if (held) this.release();
    }
  }

  /** As hold, for work that awaits while it writes (herald copy's import): the lock is held until it settles. */
  async holdWhile<T>(fn: () => Promise<T>): Promise<T> {
    const held = this.take() || (await this.wait());
    try {
      return await fn();
    } finally {
      if (held) this.release();
    }
  }

  /**
   * Between the parts of a long piece of work, each written under the lock on its own: lets the
   * threads waiting for the lock have it first. A holder that takes the lock again at once wins
   * against them, since a waiting thread needs a moment to wake after the release.
   */
  async yieldToWaiting(): Promise<void> {
    const deadline = Date.now() + MAX_YIELD_MS;
    while (Atomics.load(this.cell, WAITING) > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      // Still free after a tick: whoever is counted as waiting is not coming (too busy to wake,
      // or a thread that ended while it waited and left its count behind).
      if (Atomics.load(this.cell, HOLDER) === 0) return;
    }
  }

  /** Takes the lock if it is free. */
  private take(): boolean {
    return Atomics.compareExchange(this.cell, HOLDER, 0, threadId + 1) === 0; // 0 means free
  }

  /** Waits for the lock and takes it, or gives up after MAX_WAIT_MS; says whether it was taken. */
  private async wait(): Promise<boolean> {
    const deadline = Date.now() + MAX_WAIT_MS;
    Atomics.add(this.cell, WAITING, 1);
    try {
      for (;;) {
        const holder = Atomics.compareExchange(this.cell, HOLDER, 0, threadId + 1);
        if (holder === 0) return true;
        const left = deadline - Date.now();
        if (left <= 0) return false;
        const wait = waitAsync(this.cell, HOLDER, holder, left);
        if (wait.async) await wait.value;
      }
    } finally {
      Atomics.sub(this.cell, WAITING, 1);
    }
  }

  private release(): void {
    Atomics.store(this.cell, HOLDER, 0);
    Atomics.notify(this.cell, HOLDER, 1);
  }

  /** Frees the lock if the thread `id` (worker_threads.threadId) holds it: that thread has ended. */
  releaseHeldBy(id: number): void {
    if (Atomics.compareExchange(this.cell, HOLDER, id + 1, 0) === id + 1) Atomics.notify(this.cell, HOLDER, 1);
  }
}

/**
 * The earliest due time that writes have given deliveries since it was last taken
 * (SqliteConnection.markDue): in a write lock's shared memory for the threads of a process, or
 * in memory of its own for a connection alone.
 */
export class DueMark {
  constructor(private readonly cell: BigInt64Array = new BigInt64Array(1), fresh = true) {
    if (fresh) Atomics.store(cell, 0, NO_DUE);
  }

  lower(at: number): void {
    if (!Number.isFinite(at)) return;
    const mark = BigInt(Math.floor(at));
    for (;;) {
      const current = Atomics.load(this.cell, 0);
      if (mark >= current || Atomics.compareExchange(this.cell, 0, current, mark) === current) return;
    }
  }

  /** The mark, cleared; null when nothing was made due since it was last taken. */
  take(): number | null {
    const mark = Atomics.exchange(this.cell, 0, NO_DUE);
    return mark === NO_DUE ? null : Number(mark);
  }
}
