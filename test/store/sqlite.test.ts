// The Store conformance cases against the embedded SQLite adapter, one in-memory database per case,
// and what only the SQLite adapter does.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { storeCases } from './store.cases.js';

describe('SqliteStore', () => {
  storeCases(async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.migrate();
    return { store, cleanup: () => store.close() };
  });
});

describe('SqliteStore purge', () => {
  it('walks events in seq order and ends at the first one that is not old (it does not read the rest)', async () => {
    const T0 = 1_700_000_000_000;
    const store = new SqliteStore({ path: ':memory:' });
    try {
      await store.migrate();
      await store.createWorkspace({ id: 'acme', name: 'Acme', uri: null, webhooksEnabled: true, createdAt: T0, updatedAt: T0 });
      const publish = (id: string, at: number) =>
        store.publish([{ workspaceId: 'acme', inputs: [{ id, clientId: true, idempotencyKey: null, topic: 'walletreward_create', data: {} }] }], at);
      await publish('old-1', T0);
      await publish('recent', T0 + 1000);
      // Published after `recent` with an earlier time (a clock set back): behind a recent
      // event, it waits for that one to grow old.
      await publish('old-2', T0 + 1);
      assert.equal(await store.purge(T0 + 500, 10), 1);
      assert.equal(await store.getEvent('acme', 'old-1'), null);
      assert.ok(await store.getEvent('acme', 'old-2'));
      assert.equal(await store.purge(T0 + 2000, 10), 2, 'once the one before it is old, it goes too');
    } finally {
      await store.close();
    }
  });
});
