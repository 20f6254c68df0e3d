// Where SQLite's WAL is checkpointed. Herald's connections commit without checkpointing (a
// checkpoint stalls the committing thread's event loop for its copy and two fsyncs); a thread
// of the main connection's copies the WAL into the database file, and under writes that never
// pause it still lets the WAL start over. Seen from the files: only a checkpoint writes pages
// into the database file, and the WAL file never shrinks, so its size is the most it held.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteConnection, type SqliteOptions } from '../../src/store/sqlite/connection.js';
import { readWalIndex, type CheckpointSettings } from '../../src/store/sqlite/checkpointer.js';
import { createHerald } from '../../src/herald.js';
import { loadConfig } from '../../src/config.js';
import { TEST_DEFAULTS } from '../helpers/herald.js';

const PAGE = 4096;
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function open(options: Omit<SqliteOptions, 'path'>): { c: SqliteConnection; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'herald-checkpoint-'));
  dirs.push(dir);
  const path = join(dir, 'herald.db');
  const c = new SqliteConnection({ path, ...options });
  c.db.exec('CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
  return { c, path };
}

/** Commits `commits` transactions of `pagesEach` pages of data each, back to back. */
async function fill(c: SqliteConnection, commits: number, pagesEach: number): Promise<void> {
  const insert = c.sql('INSERT INTO blobs (body) VALUES (?)');
  const body = Buffer.alloc(PAGE - 100, 7); // about one page per row
  for (let i = 0; i < commits; i++) {
    await c.write(() => {
      for (let j = 0; j < pagesEach; j++) insert.run(body);
    });
  }
}

const pagesIn = (file: string) => Math.floor(statSync(file).size / PAGE);
const walPages = (path: string) => Math.floor(statSync(path + '-wal').size / (PAGE + 24));

function walIndex(path: string): { pages: number; copied: number } {
  const shm = openSync(path + '-shm', 'r');
  try {
    return readWalIndex(shm);
  } finally {
    closeSync(shm);
  }
}

/**
 * A connection with a checkpoint thread, once the thread runs (it has copied a first commit),
 * after `commits` commits of `pagesEach` pages and once the thread has copied the whole WAL.
 */
async function filledWithThread(settings: CheckpointSettings, commits: number, pagesEach: number): Promise<{ c: SqliteConnection; path: string }> {
  const { c, path } = open({ checkpoints: 'thread', checkpointSettings: settings });
  try {
    await fill(c, 1, 1);
    await waitUntil('the checkpoint thread has started', () => walIndex(path).copied > 0);
    await fill(c, commits, pagesEach);
    await waitUntil('the thread has copied the whole WAL', () => walIndex(path).copied === walIndex(path).pages);
    return { c, path };
  } catch (err) {
    await c.close();
    throw err;
  }
}

async function waitUntil(what: string, ok: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('SQLite checkpoints', () => {
  it('a connection that leaves checkpoints elsewhere commits past 1,000 WAL pages without checkpointing', async () => {
    const { c, path } = open({ checkpoints: 'elsewhere' });
    try {
      await fill(c, 30, 50); // 1,500 pages: SQLite's own checkpoint would run at 1,000
      assert.ok(walPages(path) >= 1500, `the WAL holds every commit (${walPages(path)} pages)`);
      assert.ok(pagesIn(path) <= 1, `nothing was copied into the database file (${pagesIn(path)} pages; its header is one)`);
    } finally {
      await c.close();
    }
  });

  it('the checkpoint thread copies the WAL into the database file, and the WAL then starts over', async () => {
    const { c, path } = await filledWithThread({ lookEveryMs: 10, checkpointPages: 1, restartPages: 4096 }, 30, 50);
    try {
      assert.ok(pagesIn(path) >= 1500, `the rows are in the database file (${pagesIn(path)} pages)`);
      const size = walPages(path);
      await fill(c, 1, 10);
      assert.ok(walIndex(path).pages < 100, `the next commit started the WAL over (${walIndex(path).pages} pages in it)`);
      assert.equal(walPages(path), size, 'so the WAL file did not grow');
    } finally {
      await c.close();
    }
  });

  it('under commits that never pause, the thread still lets the WAL start over (it finishes under the write lock)', async () => {
    // Commits a microtask apart: a checkpoint that waits for no lock never finds the WAL with
    // nothing new in it, and the WAL would grow for as long as they go on.
    const { c, path } = await filledWithThread({ lookEveryMs: 5, checkpointPages: 1, restartPages: 100 }, 1, 1);
    try {
      let previous = walIndex(path).pages;
      let restarts = 0;
      for (let written = 0; written < 20_000 && restarts < 3; written += 5) {
        await fill(c, 1, 5);
        const pages = walIndex(path).pages;
        if (pages < previous) restarts++;
        previous = pages;
      }
      assert.equal(restarts, 3, 'the WAL started over while the commits went on');
    } finally {
      await c.close();
    }
  });

  it("Herald's connection leaves checkpoints to its thread", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-checkpoint-'));
    dirs.push(dir);
    const herald = await createHerald(loadConfig({}, {}, { ...TEST_DEFAULTS, dataDir: dir }));
    try {
      const db = (herald.store as unknown as { db: import('better-sqlite3').Database }).db;
      assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0);
    } finally {
      await herald.stop();
    }
  });
});
