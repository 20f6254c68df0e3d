// The Store conformance cases against the embedded SQLite adapter, one in-memory database per case.
import { describe } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { storeCases } from './store.cases.js';

describe('SqliteStore', () => {
  storeCases(async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.migrate();
    return { store, cleanup: () => store.close() };
  });
});
