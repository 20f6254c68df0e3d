// Group commit: publishes of one turn share a transaction; while a commit is under way, the
// publishes that arrive wait and then share the next one; one bad batch does not fail the
// others of its group.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Publisher } from '../../src/publish/publisher.js';
import type { PublishBatch, PublishOutcome, Store } from '../../src/store/store.js';

/** A store whose publish() calls are recorded and answered only when the test says so. */
function slowStore() {
  const calls: { batches: PublishBatch[]; finish: (fail?: (b: PublishBatch) => boolean) => void }[] = [];
  const store = {
    publish(batches: PublishBatch[]) {
      return new Promise<(PublishOutcome[] | null)[]>((resolve, reject) => {
        calls.push({
          batches,
          finish: (fail) => {
            if (fail && batches.some(fail)) reject(new Error('bad batch'));
            else resolve(batches.map(() => []));
          },
        });
      });
    },
  } as unknown as Store;
  return { store, calls };
}

const batch = (workspaceId: string): PublishBatch => ({ workspaceId, inputs: [] });
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('Publisher', () => {
  it('shares one commit among the publishes of a turn, and one among those that arrive during it', async () => {
    const { store, calls } = slowStore();
    const publisher = new Publisher(store, () => {});
    const first = [publisher.publish(batch('a')), publisher.publish(batch('b'))];
    await turn();
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]!.batches.map((b) => b.workspaceId), ['a', 'b']);

    // While that commit is under way, three more arrive over several turns: none is written yet.
    const second = [publisher.publish(batch('c'))];
    await turn();
    second.push(publisher.publish(batch('d')), publisher.publish(batch('e')));
    await turn();
    assert.equal(calls.length, 1, 'waits for the commit under way');

    calls[0]!.finish();
    assert.deepEqual(await Promise.all(first), [[], []]);
    await turn();
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[1]!.batches.map((b) => b.workspaceId), ['c', 'd', 'e']);
    calls[1]!.finish();
    assert.deepEqual(await Promise.all(second), [[], [], []]);
  });

  it('retries the batches of a failed group alone, so only the bad one fails', async () => {
    const { store, calls } = slowStore();
    const publisher = new Publisher(store, () => {});
    const results = [publisher.publish(batch('good')), publisher.publish(batch('bad')), publisher.publish(batch('fine'))].map((p) =>
      p.then(() => 'ok', (e: Error) => e.message),
    );
    await turn();
    calls[0]!.finish((b) => b.workspaceId === 'bad');
    await turn();
    assert.equal(calls.length, 4, 'one group, then each batch alone');
    for (const c of calls.slice(1)) c.finish((b) => b.workspaceId === 'bad');
    assert.deepEqual(await Promise.all(results), ['ok', 'bad batch', 'ok']);
  });
});
