// WAL checkpoints off the event loop. A checkpoint copies the WAL's pages into the database
// file and syncs both; SQLite runs it inside the commit that takes the WAL past 1,000 pages,
// so on whichever thread committed (the API's or the delivery thread's), whose event loop
// then stands still for the copy and two fsyncs. Measured (strace) at 500 events/s right
// after a 40,000-event burst: 50 checkpoints in 30 s on the API thread, 2 s in all, median
// 9 ms, longest 231 ms, and 21 on the delivery thread — the tail of publish→receipt latency.
// Herald's connections therefore commit without checkpointing (wal_autocheckpoint = 0), and a
// thread of their own does it with a connection of its own.
import type Database from 'better-sqlite3';
import { once } from 'node:events';
import { readSync } from 'node:fs';
import { endianness } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startThread } from '../../threads.js';
import type { WriteLock } from './write-lock.js';

/**
 * When the thread checkpoints: once this many pages of the WAL are not yet copied, as SQLite
 * would (its default wal_autocheckpoint). Checkpointing a smaller WAL would only sync more
 * often — and on a full disk, start the WAL over for small writes while publishes fail.
 */
export const CHECKPOINT_PAGES = 1000;
/** How often the thread looks at the WAL's size (ms): a read of 136 bytes. */
export const LOOK_EVERY_MS = 50;
/**
 * WAL size (pages: 64 MiB) past which a checkpoint is finished under the write lock. A
 * checkpoint copies the pages committed before it starts; while writers keep committing it
 * never catches up, and the WAL, which starts over only once it is all copied, would grow
 * without bound. Under the lock only the pages committed during the unlocked pass remain to
 * copy, but its two fsyncs hold every writer (measured: 3-22 ms on a busy machine), so it is
 * done seldom: at 500 events/s after a burst the WAL takes about 8,500 pages a second.
 */
export const RESTART_PAGES = 16384;

export interface CheckpointSettings {
  lookEveryMs: number;
  checkpointPages: number;
  restartPages: number;
}

export const CHECKPOINT_SETTINGS: CheckpointSettings = { lookEveryMs: LOOK_EVERY_MS, checkpointPages: CHECKPOINT_PAGES, restartPages: RESTART_PAGES };

export interface CheckpointData extends CheckpointSettings {
  path: string;
  /** The write lock's shared memory (WriteLock.buffer) of the connections that leave checkpoints to this thread. */
  writeLock: SharedArrayBuffer;
}

const INDEX_HEADER_BYTES = 136;
const header = Buffer.alloc(INDEX_HEADER_BYTES);
const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * The WAL's size in pages and how many of them are copied into the database, from the
 * wal-index header at the start of the -shm file (https://www.sqlite.org/walformat.html:
 * mxFrame at byte 16, nBackfill at byte 96, in the machine's byte order). Every SQLite since
 * 3.7.0 shares that layout with the others that open the same database, so it does not change.
 * Read without a lock: a torn read only makes one look early or late.
 */
export function readWalIndex(shm: number): { pages: number; copied: number } {
  if (readSync(shm, header, 0, INDEX_HEADER_BYTES, 0) < INDEX_HEADER_BYTES) return { pages: 0, copied: 0 };
  const u32 = (at: number) => (LITTLE_ENDIAN ? header.readUInt32LE(at) : header.readUInt32BE(at));
  return { pages: u32(16), copied: u32(96) };
}

/**
 * The checkpoints of one database, one look per call: once `checkpointPages` are waiting, a
 * passive checkpoint (it waits for no lock, so writers go on committing meanwhile); then, if
 * the WAL has passed `restartPages` and pages were committed during it, another under the
 * write lock, after which the next commit starts the WAL over.
 */
export function checkpointPasses(db: Database.Database, shm: number, lock: WriteLock, settings: CheckpointSettings): () => Promise<void> {
  const passive = () => db.pragma('wal_checkpoint(PASSIVE)');
  return async () => {
    const before = readWalIndex(shm);
    if (before.pages - before.copied < settings.checkpointPages) return;
    passive();
    const after = readWalIndex(shm);
    if (after.pages >= settings.restartPages && after.copied < after.pages) await lock.hold(passive);
  };
}

/**
 * The checkpoint thread (checkpoint-thread.ts) of one database, started and stopped with its
 * connection. Should it end otherwise (it catches its checkpoints' errors, so it should not),
 * `onDeath` is called: the connection then checkpoints in its commits again, as SQLite does.
 */
export class Checkpointer {
  private worker: Worker | null = null;

  constructor(data: CheckpointData, lock: WriteLock, onDeath: () => void) {
    // Not unref'd: a write waiting for the lock this thread holds (Atomics.waitAsync) does not
    // keep the event loop alive by itself.
    // It allocates next to nothing: a small heap keeps the thread's memory small (it counts
    // towards Herald's resident size).
    const resourceLimits = { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 };
    const worker = startThread(import.meta.url, 'checkpoint-thread', { workerData: data, name: 'herald-checkpoint', resourceLimits });
    this.worker = worker;
    const threadId = worker.threadId;
    worker.on('error', () => undefined); // it ends, and 'exit' says so
    worker.on('exit', () => {
      // Ended while it held the write lock: the other threads must not wait for it.
      lock.releaseHeldBy(threadId);
      if (this.worker === worker) onDeath();
      this.worker = null;
    });
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    const exited = once(worker, 'exit');
    worker.postMessage('stop');
    await exited;
  }
}
