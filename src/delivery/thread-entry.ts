// The delivery thread's program (see thread.ts): its own database connection, sender and
// delivery worker, driven by the main thread's messages.
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { SecretBox } from '../domain/secret-box.js';
import { openStore, splitPool } from '../store/open.js';
import { WriteLock } from '../store/sqlite/write-lock.js';
import { createSender, createWorker } from './setup.js';
import type { FromThread, ThreadData, ToThread } from './thread.js';

const port = parentPort;
if (!port) throw new Error('thread-entry runs only as a delivery thread');
const { config, logLevel, writeLock } = workerData as ThreadData;
const post = (message: FromThread) => port.postMessage(message);

const log = pino({ level: logLevel }, { write: (line: string) => post({ type: 'log', line }) });
const store = openStore(config, log, {
  writeLock: writeLock ? new WriteLock(writeLock) : undefined,
  checkpoints: 'elsewhere', // the main thread's connection has the checkpoint thread
  poolSize: splitPool(config.databasePoolSize).delivery,
});
const { sender, runner } = createSender(config, new SecretBox(config.encryptionKey));
const worker = createWorker(config, store, runner, log, {
  attempted: (reports) => post({ type: 'attempted', reports }),
  health: (effects) => post({ type: 'health', effects }),
});

// Other nodes' publishes, retries and released claims wake this worker at once (PostgreSQL).
const listening = store.listen ? store.listen(() => worker.wake()) : null;

let stopping: Promise<void> | null = null;
async function stop(): Promise<void> {
  await worker.stop();
  const unlisten = await listening?.catch(() => null);
  await unlisten?.();
  await sender.close();
  await store.close();
  // The last reports go out on the next turn of the event loop (setup.ts batches them);
  // then the thread ends, which the main thread waits for.
  await new Promise((resolve) => setImmediate(resolve));
  port!.close();
}

port.on('message', (message: ToThread) => {
  if (message.type === 'wake') worker.wake();
  else if (message.type === 'stop') stopping ??= stop();
  else if (message.type === 'whenIdle') void worker.whenIdle().then(() => post({ type: 'idle', id: message.id }));
});

await listening;
if (!stopping) worker.start();
