import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FanOut, publishedData } from '../../src/domain/fan-out.js';
import type { Webhook, Workspace } from '../../src/store/store.js';

const workspace: Workspace = {
  id: 'ws_shop',
  name: 'Brew & Bean Café',
  uri: 'https://brewandbean.example',
  webhooksEnabled: true,
  createdAt: 1,
  updatedAt: 1,
};

function webhook(filter: Record<string, unknown> | null, updatedAt = 1000, id = 'wh_1'): Webhook {
  return {
    id,
    workspaceId: workspace.id,
    topic: 'walletreward_create',
    url: 'https://receiver.example/hook',
    secret: 's3cret',
    prefix: '',
    filter,
    headers: {},
    description: null,
    enabled: true,
    disabledReason: null,
    rateLimit: null,
    previousSecrets: [],
    signing: 'hmac',
    signingKey: null,
    publicKey: null,
    previousSigningKeys: [],
    ordering: 'none',
    paused: false,
    createdAt: 1000,
    updatedAt,
  };
}

describe('FanOut.body', () => {
  it('adds business_name and business_uri when data lacks both', () => {
    const { body, addedFields } = new FanOut().body(workspace, { customer_id: 'c1', amount: 150 });
    assert.deepEqual(JSON.parse(body), {
      customer_id: 'c1',
      amount: 150,
      business_name: 'Brew & Bean Café',
      business_uri: 'https://brewandbean.example',
    });
    assert.deepEqual(addedFields, ['business_name', 'business_uri']);
  });

  it('keeps what data already has, adding only the missing field', () => {
    const a = new FanOut().body(workspace, { business_name: 'Own Name', x: 1 });
    assert.deepEqual(JSON.parse(a.body), { business_name: 'Own Name', x: 1, business_uri: 'https://brewandbean.example' });
    assert.deepEqual(a.addedFields, ['business_uri']);

    const b = new FanOut().body(workspace, { business_uri: 'https://own.example', x: 1 });
    assert.deepEqual(JSON.parse(b.body), { business_uri: 'https://own.example', x: 1, business_name: 'Brew & Bean Café' });
    assert.deepEqual(b.addedFields, ['business_name']);
  });

  it('adds nothing when data has both, even when they are null or empty', () => {
    const data = { business_name: null, business_uri: '', amount: 3 };
    const { body, addedFields } = new FanOut().body(workspace, data);
    assert.equal(body, JSON.stringify(data));
    assert.deepEqual(addedFields, []);
  });

  it('sends a null uri when the workspace has none', () => {
    const { body } = new FanOut().body({ ...workspace, uri: null }, { a: 1 });
    assert.deepEqual(JSON.parse(body), { a: 1, business_name: 'Brew & Bean Café', business_uri: null });
  });

  it('does not modify the data it is given', () => {
    const data = { a: 1, nested: { b: 2 } };
    const copy = structuredClone(data);
    new FanOut().body(workspace, data);
    assert.deepEqual(data, copy);
  });

  it('does not mistake inherited properties for the fields', () => {
    const data = Object.create({ business_name: 'inherited' }) as Record<string, unknown>;
    data.a = 1;
    const { addedFields } = new FanOut().body(workspace, data);
    assert.deepEqual(addedFields, ['business_name', 'business_uri']);
  });

  it('keeps non-ASCII text intact', () => {
    const { body } = new FanOut().body(workspace, { name: 'Zoë 日本 🔑' });
    assert.equal(JSON.parse(body).name, 'Zoë 日本 🔑');
  });
});

describe('publishedData', () => {
  it('gives the data back as published', () => {
    const fanOut = new FanOut();
    for (const data of [
      { customer_id: 'c1', amount: 150 },
      { business_name: 'Own', x: [1, 2, { y: null }] },
      { business_uri: 'https://own.example' },
      { business_name: 'Own', business_uri: null },
      {},
    ] as Record<string, unknown>[]) {
      const { body, addedFields } = fanOut.body(workspace, data);
      assert.deepEqual(publishedData(body, addedFields), data);
    }
  });

  it('removes only the listed fields', () => {
    const body = JSON.stringify({ a: 1, business_name: 'n', business_uri: 'u' });
    assert.deepEqual(publishedData(body, []), { a: 1, business_name: 'n', business_uri: 'u' });
    assert.deepEqual(publishedData(body, ['business_uri']), { a: 1, business_name: 'n' });
  });
});

describe('FanOut.matches', () => {
  const gold = JSON.stringify({ tier: 'gold', amount: 150, business_name: 'Brew & Bean Café' });
  const silver = JSON.stringify({ tier: 'silver', amount: 50, business_name: 'Brew & Bean Café' });

  it('a null filter matches everything', () => {
    const f = new FanOut();
    assert.equal(f.matches(webhook(null), gold), true);
    assert.equal(f.matches(webhook(null), silver), true);
  });

  it('an empty filter matches everything', () => {
    const f = new FanOut();
    assert.equal(f.matches(webhook({}), gold), true);
    assert.equal(f.matches(webhook({}), '{}'), true);
  });

  it('a filter decides', () => {
    const f = new FanOut();
    const w = webhook({ amount: { $gte: 100 }, tier: 'gold' });
    assert.equal(f.matches(w, gold), true);
    assert.equal(f.matches(w, silver), false);
  });

  it('sees the body that would be sent, with the business fields', () => {
    const f = new FanOut();
    const { body } = f.body(workspace, { amount: 1 });
    assert.equal(f.matches(webhook({ business_name: 'Brew & Bean Café' }), body), true);
    assert.equal(f.matches(webhook({ business_name: 'Other' }, 1000, 'wh_2'), body), false);
  });

  it('alternating bodies and webhooks give the right answers', () => {
    const f = new FanOut();
    const goldOnly = webhook({ tier: 'gold' }, 1, 'wh_gold');
    const silverOnly = webhook({ tier: 'silver' }, 1, 'wh_silver');
    for (let i = 0; i < 3; i++) {
      assert.equal(f.matches(goldOnly, gold), true);
      assert.equal(f.matches(silverOnly, gold), false);
      assert.equal(f.matches(goldOnly, silver), false);
      assert.equal(f.matches(silverOnly, silver), true);
    }
  });

  it('recompiles the filter when the webhook changes (updatedAt)', () => {
    const f = new FanOut();
    assert.equal(f.matches(webhook({ tier: 'gold' }, 1000), gold), true);
    // Same version: the compiled filter is reused (compiled once per webhook version).
    assert.equal(f.matches(webhook({ tier: 'silver' }, 1000), gold), true);
    // New version: the new filter applies.
    assert.equal(f.matches(webhook({ tier: 'silver' }, 1001), gold), false);
    assert.equal(f.matches(webhook({ tier: 'silver' }, 1001), silver), true);
    // Filter removed.
    assert.equal(f.matches(webhook(null, 1002), gold), true);
    // Filter set again.
    assert.equal(f.matches(webhook({ tier: 'gold' }, 1003), silver), false);
  });

  it('a stored filter that no longer compiles matches nothing', () => {
    const f = new FanOut();
    assert.equal(f.matches(webhook({ amount: { $bogus: 1 } }), gold), false);
  });
});
