import { threadId } from 'node:worker_threads';

/** Longest wait for the lock; past it, SQLite's own busy timeout decides. */
const MAX_WAIT_MS = 5_000;

/**
 * The write lock of one SQLite database, shared by the threads of one process (the API's
 * and the delivery thread, each with its own connection) through a SharedArrayBuffer.
 *
 * SQLite lets one connection write at a time; a connection that finds the database locked
 * sleeps in steps of 1, 2, 5, 10 ms … before it looks again, so two busy connections lose
 * milliseconds to each other on every collision. Taken before BEGIN IMMEDIATE, this lock
 * makes the second writer wait exactly as long as the first one writes (Atomics.wait wakes
 * on the release). It holds the id of the thread that holds it, so that a thread that ended
 * while holding it can be released by another (releaseHeldBy).
 */
export class WriteLock {
  private readonly cell: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.cell = new Int32Array(buffer);
  }

  /** Runs `fn` holding the lock (or after MAX_WAIT_MS without it). */
  hold<T>(fn: () => T): T {
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
      Atomics.wait(this.cell, 0, holder, left);
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
