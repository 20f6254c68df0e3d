// Topic schemas through the API (contract section 9): an admin sets a JSON Schema (draft
// 2020-12) on a topic with POST or PATCH /api/v1/topics, GET shows it, a schema that does not
// compile is a 400 naming the fault's path, and publishing refuses data that does not satisfy
// it with a 400 whose errors[].path points at the fault (`events[3].data.amount` in a batch,
// where nothing of the batch is stored).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWorkspace, startHerald, type TestHerald } from '../helpers/herald.js';

let h: TestHerald;
before(async () => {
  h = await startHerald();
});
after(async () => {
  await h?.stop();
});

const SCHEMA = {
  type: 'object',
  properties: {
    customer_id: { type: 'string' },
    amount: { type: 'integer', minimum: 1 },
    tier: { enum: ['silver', 'gold'] },
    address: { type: 'object', properties: { city: { type: 'string' } } },
  },
  required: ['customer_id', 'amount'],
};

async function eventCount(ws: string): Promise<number> {
  return (await h.api('GET', `/api/v1/workspaces/${ws}/events?limit=500`)).body.data.length;
}

describe('topic schemas', () => {
  it('are set with POST, shown by GET and the list, changed and cleared with PATCH', async () => {
    const created = await h.api('POST', '/api/v1/topics', { name: 'schema.set', label: 'Set', schema: SCHEMA });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.body.schema, SCHEMA);
    assert.deepEqual((await h.api('GET', '/api/v1/topics/schema.set')).body.schema, SCHEMA);
    const listed = (await h.api('GET', '/api/v1/topics')).body.data;
    assert.deepEqual(listed.find((t: any) => t.name === 'schema.set').schema, SCHEMA);
    assert.equal(listed.find((t: any) => t.name === 'walletreward_create').schema, null, 'built-in topics have none until one is set');

    const patched = await h.api('PATCH', '/api/v1/topics/schema.set', { description: 'only the description' });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual(patched.body.schema, SCHEMA, 'a PATCH without schema keeps it');
    assert.equal(patched.body.label, 'Set');
    const cleared = await h.api('PATCH', '/api/v1/topics/schema.set', { schema: null });
    assert.equal(cleared.body.schema, null);
    assert.equal((await h.api('GET', '/api/v1/topics/schema.nope')).status, 404);
  });

  it('a schema that does not compile is a 400 naming the path of the fault; nothing is stored', async () => {
    await h.api('POST', '/api/v1/topics', { name: 'schema.bad', schema: SCHEMA });
    const cases: [unknown, string][] = [
      [{ type: 'object', properties: { amount: { type: 'integr' } } }, 'schema.properties.amount.type'],
      [{ type: 'object', properties: { code: { type: 'string', pattern: '(?=a)b' } } }, 'schema.properties.code.pattern'],
      [{ $ref: '#' }, 'schema'],
    ];
    for (const [schema, path] of cases) {
      for (const [method, url, body] of [
        ['PATCH', '/api/v1/topics/schema.bad', { schema }],
        ['POST', '/api/v1/topics', { name: 'schema.bad', schema }],
      ] as const) {
        const res = await h.api(method, url, body);
        assert.equal(res.status, 400, `${method} ${JSON.stringify(schema)}: ${res.text}`);
        assert.equal(res.body.errors[0].path, path, res.text);
      }
    }
    assert.deepEqual((await h.api('GET', '/api/v1/topics/schema.bad')).body.schema, SCHEMA, 'the schema in force is unchanged');
    const notObject = await h.api('PATCH', '/api/v1/topics/schema.bad', { schema: 'string' });
    assert.equal(notObject.status, 400);
    assert.equal(notObject.body.errors[0].path, 'schema');
  });

  it('only the admin sets schemas; a workspace key reads them', async () => {
    const ws = await createWorkspace(h);
    const key = (await h.api('POST', `/api/v1/workspaces/${ws.id}/keys`, {})).body.key;
    assert.equal((await h.api('PATCH', '/api/v1/topics/schema.set', { schema: null }, key)).status, 403);
    assert.equal((await h.api('GET', '/api/v1/topics/schema.set', undefined, key)).status, 200);
  });

  it('publishing refuses data the schema refuses, with the path of each fault; a bad batch stores nothing', async () => {
    await h.api('POST', '/api/v1/topics', { name: 'schema.publish', schema: SCHEMA });
    const ws = (await createWorkspace(h)).id;
    const url = `/api/v1/workspaces/${ws}/events`;
    const ok = await h.api('POST', url, { topic: 'schema.publish', data: { customer_id: '4417', amount: 250, tier: 'gold' } });
    assert.equal(ok.status, 202, ok.text);

    const bad = await h.api('POST', url, { topic: 'schema.publish', data: { customer_id: 4417, amount: 2.5, tier: 'bronze', address: { city: 7 } } });
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual(
      bad.body.errors.map((e: any) => e.path).sort(),
      ['data.address.city', 'data.amount', 'data.customer_id', 'data.tier'],
    );
    assert.match(bad.body.errors.find((e: any) => e.path === 'data.tier').message, /must be one of "silver", "gold"/);
    const missing = await h.api('POST', url, { topic: 'schema.publish', data: { customer_id: '1' } });
    assert.deepEqual(missing.body.errors, [{ path: 'data.amount', message: 'is required' }]);

    const before = await eventCount(ws);
    const events = [0, 1, 2, 3, 4].map((i) => ({ topic: 'schema.publish', data: { customer_id: `c${i}`, amount: i === 3 ? 'lots' : i + 1 } }));
    const batch = await h.api('POST', `${url}/batch`, { events });
    assert.equal(batch.status, 400, batch.text);
    assert.deepEqual(batch.body.errors.map((e: any) => e.path), ['events[3].data.amount']);
    assert.equal(await eventCount(ws), before, 'nothing of the batch is stored');

    // Cleared: the same data is accepted.
    await h.api('PATCH', '/api/v1/topics/schema.publish', { schema: null });
    assert.equal((await h.api('POST', `${url}/batch`, { events })).status, 202);
    assert.equal(await eventCount(ws), before + 5);
  });

  it('in-process publishing checks the schema too', async () => {
    await h.api('POST', '/api/v1/topics', { name: 'schema.inprocess', schema: SCHEMA });
    const ws = (await createWorkspace(h)).id;
    await assert.rejects(
      h.herald.publish(ws, [{ topic: 'schema.inprocess', data: { customer_id: 'a', amount: 1 } }, { topic: 'schema.inprocess', data: { customer_id: 'b' } }]),
      (err: any) => err.status === 400 && err.errors[0].path === '[1].data.amount',
    );
  });
});
