import { threadId } from 'node:worker_threads';

// Atomics.waitAsync is in Node 16+, but in TypeScript's lib only from ES2024.
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number, timeout: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

/** Longest wait for the lock; past it, SQLite's own busy timeout decides. */
const MAX_WAIT_MS = 5_000;

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
  private readonly cell: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.cell = new Int32Array(buffer);
  }

  /**
   * Runs `fn` holding the lock (or after MAX_WAIT_MS without it). The wait is asynchronous
   * (Atomics.waitAsync): while one thread writes, the other goes on with its HTTP and API work.
   */
  async hold<T>(fn: () => T): Promise<T> {
    const me = threadId + 1; // 0 means free
    const deadline = Date.now() + MAX_WAIT_MS;
    let held = false;
    for (;;) {
      const holder = Atomics.compareExchange(this.cell, 0, 0, me);
      if (holder === 0) {
        held = true;
        break;
      }
      const left = deadline - Date.now();
      if (left <= 0) break;
      const wait = waitAsync(this.cell, 0, holder, left);
      if (wait.async) await wait.value;
    }
    try {
      return fn();
    } finally {
      if (held) {
        Atomics.store(this.cell, 0, 0);
        Atomics.notify(this.cell, 0, 1);
      }
    }
  }

  /** Frees the lock if the thread `id` (worker_threads.threadId) holds it: that thread has ended. */
  releaseHeldBy(id: number): void {
    if (Atomics.compareExchange(this.cell, 0, id + 1, 0) === id + 1) Atomics.notify(this.cell, 0, 1);
  }
}
