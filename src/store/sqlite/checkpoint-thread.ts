// The checkpoint thread's program (see checkpointer.ts): its own connection to the database,
// a look at the WAL's size every LOOK_EVERY_MS and a checkpoint when it is due, until the
// 'stop' message.
import Database from 'better-sqlite3';
import { closeSync, openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { checkpointPasses, type CheckpointData } from './checkpointer.js';
import { WriteLock } from './write-lock.js';

const port = parentPort;
if (!port) throw new Error('checkpoint-thread runs only as a thread');
const data = workerData as CheckpointData;
const db = new Database(data.path, { fileMustExist: true });
db.pragma('busy_timeout = 5000');
db.prepare('SELECT count(*) FROM sqlite_master').get(); // a read opens the WAL: its -shm file exists from here on
const shm = openSync(data.path + '-shm', 'r');
const pass = checkpointPasses(db, shm, new WriteLock(data.writeLock), data);

let stopped = false;
let timer: NodeJS.Timeout | null = null;
let running: Promise<void> | null = null;

function next(): void {
  timer = setTimeout(() => {
    timer = null;
    // A failed checkpoint (a full disk, say) is tried again on the next turn, as SQLite would on the next commit.
    running = pass().catch(() => undefined).finally(() => {
      running = null;
      if (!stopped) next();
    });
  }, data.lookEveryMs);
}

port.on('message', (message: unknown) => {
  if (message !== 'stop' || stopped) return;
  stopped = true;
  if (timer) clearTimeout(timer);
  void Promise.resolve(running).then(() => {
    closeSync(shm);
    db.close();
    port.close();
  });
});

next();
