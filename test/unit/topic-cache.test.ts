// TopicCache: a topic changed on another node (the store changes under the cache) is seen
// within the TTL, one changed through this node (forget) at once; validators follow the
// schema's version.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TopicCache, TOPIC_TTL_MS } from '../../src/publish/topic-cache.js';
import type { TopicRecord } from '../../src/store/store.js';

function storeOf(topic: TopicRecord) {
  let reads = 0;
  return {
    topic,
    get reads() {
      return reads;
    },
    async getTopic(name: string) {
      reads++;
      return name === this.topic.name ? { ...this.topic } : null;
    },
  };
}

const amountSchema = (type: string) => ({ type: 'object', properties: { amount: { type } } });

describe('TopicCache', () => {
  it('serves a topic from memory for TOPIC_TTL_MS, then reads it again', async () => {
    let now = 1_000_000;
    const store = storeOf({ name: 't', label: 'T', description: '', sample: {}, schema: amountSchema('integer'), schemaVersion: 1 });
    const cache = new TopicCache(store, TOPIC_TTL_MS, () => now);
    const first = (await cache.get('t'))!;
    assert.deepEqual(cache.validator(first)!({ amount: 'x' }).map((f) => f.path), ['data.amount']);
    // Another node changes the schema.
    store.topic = { ...store.topic, schema: amountSchema('string'), schemaVersion: 2 };
    now += TOPIC_TTL_MS - 1;
    const cached = (await cache.get('t'))!;
    assert.equal(cached.schemaVersion, 1, 'still the cached one within the TTL');
    assert.equal(store.reads, 1);
    now += 1;
    const fresh = (await cache.get('t'))!;
    assert.equal(fresh.schemaVersion, 2, 'read again once the TTL is over');
    assert.deepEqual(cache.validator(fresh)!({ amount: 'x' }), [], 'the new version compiled');
    assert.deepEqual(cache.validator(fresh)!({ amount: 1 }).map((f) => f.path), ['data.amount']);
  });

  it('forget drops a topic at once; unknown topics are not cached; no schema, no validator', async () => {
    const store = storeOf({ name: 't', label: 'T', description: '', sample: {}, schema: null, schemaVersion: 0 });
    const cache = new TopicCache(store);
    const t = (await cache.get('t'))!;
    assert.equal(cache.validator(t), null);
    store.topic = { ...store.topic, label: 'T2' };
    cache.forget('t');
    assert.equal((await cache.get('t'))!.label, 'T2');
    assert.equal(await cache.get('nope'), null);
    assert.equal(await cache.get('nope'), null);
    assert.equal(store.reads, 4);
  });
});
