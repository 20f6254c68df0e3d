import type { Worker } from 'node:worker_threads';
import pino, { type Logger } from 'pino';
import type { Config } from '../config.js';
import type { HealthEffect } from '../domain/health.js';
import type { WriteLock } from '../store/sqlite/write-lock.js';
import { startThread } from '../threads.js';
import type { AttemptReport } from './report.js';
import type { DeliveryEvents, DeliveryLoop } from './setup.js';

// Delivery in a thread of its own. On one thread, the API, the synchronous SQLite queue,
// signing and outbound HTTP take turns; the profile put most of a delivery's CPU time outside
// the API. The delivery thread opens its own connection to the same database (SQLite in WAL
// mode lets the two write in turn, PostgreSQL has a pool per thread), claims, signs, sends
// and records; the main thread keeps the API and publishing, wakes the thread when it has
// queued work, and turns the thread's reports into metrics and Herald's own events.

export type ToThread = { type: 'wake' } | { type: 'stop' } | { type: 'whenIdle'; id: number };

export type FromThread =
  | { type: 'attempted'; reports: AttemptReport[] }
  | { type: 'health'; effects: HealthEffect[] }
  /** The answer to a whenIdle message: the thread's worker is idle. */
  | { type: 'idle'; id: number }
  /** A pino line from the thread's logger, re-logged on the main thread's logger. */
  | { type: 'log'; line: string };

export interface ThreadData {
  config: Config;
  logLevel: string;
  /** The SQLite write lock's shared memory (see WriteLock), when the store is SQLite. */
  writeLock: SharedArrayBuffer | null;
}

/**
 * A thread that dies unexpectedly is replaced (its leases bring its claims back) after 1 s,
 * doubling up to 30 s while it keeps dying within a minute of its start.
 */
const RESTART_MS = 1_000;
const MAX_RESTART_MS = 30_000;
const STABLE_MS = 60_000;

export class DeliveryThread implements DeliveryLoop {
  private worker: Worker | null = null;
  private stopping = false;
  private restart: NodeJS.Timeout | null = null;
  private restartMs = RESTART_MS;
  private readonly idleWaiters = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private idleAsked = 0;

  constructor(
    private readonly config: Config,
    private readonly log: Logger,
    private readonly events: DeliveryEvents,
    private readonly writeLock?: WriteLock,
  ) {}

  start(): void {
    if (this.worker) return;
    this.stopping = false;
    this.spawn();
  }

  wake(): void {
    this.worker?.postMessage({ type: 'wake' } satisfies ToThread);
  }

  /** The thread's worker is idle (see DeliveryWorker.whenIdle); at once when there is no thread. */
  whenIdle(): Promise<void> {
    const worker = this.worker;
    if (!worker) return Promise.resolve();
    const id = ++this.idleAsked;
    return new Promise<void>((resolve, reject) => {
      this.idleWaiters.set(id, { resolve, reject });
      worker.postMessage({ type: 'whenIdle', id } satisfies ToThread);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restart) clearTimeout(this.restart);
    this.restart = null;
    const worker = this.worker;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'stop' } satisfies ToThread);
    // Attempts in flight end within the delivery timeout; past that (and a margin for
    // recording them), the thread is stuck and is ended (its leases bring its claims back).
    const force = setTimeout(() => void worker.terminate(), this.config.deliveryTimeoutMs + 15_000);
    await exited;
    clearTimeout(force);
  }

  private spawn(): void {
    const data: ThreadData = { config: this.config, logLevel: this.log.level, writeLock: this.writeLock?.buffer ?? null };
    const options = { workerData: data, name: 'herald-delivery' };
    const worker = startThread(import.meta.url, 'thread-entry', options);
    this.worker = worker;
    worker.on('message', (message: FromThread) => this.receive(message));
    worker.on('error', (err) => this.log.error({ err }, 'delivery thread failed'));
    const threadId = worker.threadId;
    const startedAt = Date.now();
    worker.on('exit', (code) => {
      // Ended in the middle of a write (terminated): the main thread must not wait for it.
      this.writeLock?.releaseHeldBy(threadId);
      if (this.worker !== worker) return;
      this.worker = null;
      // A stopped thread is idle; one that died may have left work behind for the next.
      for (const waiter of this.idleWaiters.values()) {
        if (this.stopping) waiter.resolve();
        else waiter.reject(new Error('the delivery thread exited'));
      }
      this.idleWaiters.clear();
      if (this.stopping) return;
      this.restartMs = Date.now() - startedAt > STABLE_MS ? RESTART_MS : this.restartMs;
      const delay = this.restartMs;
      this.restartMs = Math.min(MAX_RESTART_MS, delay * 2);
      this.log.error({ code }, `delivery thread exited; starting a new one in ${delay} ms`);
      this.restart = setTimeout(() => {
        this.restart = null;
        if (!this.stopping && !this.worker) this.spawn();
      }, delay);
    });
  }

  private receive(message: FromThread): void {
    switch (message.type) {
      case 'attempted':
        this.events.attempted(message.reports);
        break;
      case 'health':
        this.events.health(message.effects);
        break;
      case 'log':
        relog(this.log, message.line);
        break;
      case 'idle':
        this.idleWaiters.get(message.id)?.resolve();
        this.idleWaiters.delete(message.id);
        break;
    }
  }
}

/** Writes a JSON line from the thread's pino logger through the main logger, at its level. */
export function relog(log: Logger, line: string): void {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line);
  } catch {
    log.warn({ line }, 'delivery thread wrote an unreadable log line');
    return;
  }
  const { level, time, pid: _pid, hostname: _hostname, msg, err, ...fields } = record;
  const label = (typeof level === 'number' && pino.levels.labels[level]) || 'info';
  const out: Record<string, unknown> = { ...fields, thread: 'delivery', threadTime: time };
  // pino's err serializer names an error after its constructor; a plain object would become
  // "Object", so the serialized error is passed on as an object without one, named by its type.
  if (err && typeof err === 'object') out.err = Object.assign(Object.create(null), err, { name: (err as { type?: unknown }).type });
  else if (err !== undefined) out.err = err;
  (log[label as pino.Level] as pino.LogFn).call(log, out, typeof msg === 'string' ? msg : '');
}
