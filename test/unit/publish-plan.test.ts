import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FanOut } from '../../src/domain/fan-out.js';
import {
  IDEMPOTENCY_WINDOW_MS, holdsKey, pair, planPublish, publishLookups, storedRepeat, type PublishState,
} from '../../src/domain/publish-plan.js';
import type { EventRecord, PublishBatch, PublishInput, Webhook, Workspace } from '../../src/domain/records.js';

const NOW = 1_700_000_000_000;
const TOPIC = 'walletreward_create';
const acme: Workspace = { id: 'acme', name: 'Acme', uri: 'https://acme.example', webhooksEnabled: true, createdAt: 0, updatedAt: 0 };

function hook(id: string, over: Partial<Webhook> = {}): Webhook {
  return {
    id, workspaceId: 'acme', topic: TOPIC, url: `https://hooks.example/${id}`, secret: 's', prefix: '', filter: null, headers: {}, description: null,
    enabled: true, disabledReason: null, rateLimit: null, previousSecrets: [], signing: 'hmac', signingKey: null, publicKey: null, previousSigningKeys: [], ordering: 'none', paused: false,
        createdAt: 0, updatedAt: 0, ...over,
  };
}

function input(over: Partial<PublishInput> = {}): PublishInput {
  return { id: `evt_${Math.random().toString(36).slice(2)}`, clientId: false, idempotencyKey: null, topic: TOPIC, data: { amount: 1 }, ...over };
}

function stored(id: string, createdAt: number): EventRecord {
  return { id, workspaceId: 'acme', topic: TOPIC, body: '{"stored":true}', addedFields: [], createdAt, deliveries: 0 };
}

function state(over: Partial<PublishState> = {}): PublishState {
  return {
    workspaces: new Map([['acme', acme]]),
    webhooks: new Map([[pair('acme', TOPIC), [hook('wh_a'), hook('wh_b', { filter: { amount: { $gt: 100 } } })]]]),
    eventsById: new Map(),
    eventsByKey: new Map(),
    ...over,
  };
}

let n = 0;
const ids = () => `dlv_${++n}`;
const plan = (batches: PublishBatch[], s = state(), now = NOW) => planPublish(batches, s, new FanOut(), now, ids);

describe('planPublish', () => {
  it('builds the body and a delivery to each enabled webhook whose filter matches, in order', () => {
    const p = plan([{ workspaceId: 'acme', inputs: [input({ id: 'e1', data: { amount: 500 } }), input({ id: 'e2', data: { amount: 5 } })] }]);
    assert.deepEqual(p.events.map((e) => e.deliveries.map((d) => d.webhookId)), [['wh_a', 'wh_b'], ['wh_a']]);
    assert.deepEqual(JSON.parse(p.events[0]!.event.body), { amount: 500, business_name: 'Acme', business_uri: 'https://acme.example' });
    assert.deepEqual(p.events[0]!.event.addedFields, ['business_name', 'business_uri']);
    assert.equal(p.events[0]!.deliveries[0]!.url, 'https://hooks.example/wh_a');
    assert.deepEqual(p.outcomes[0]!.map((o) => [o.event.id, o.event.deliveries, o.created]), [['e1', 2, true], ['e2', 1, true]]);
    assert.deepEqual(p.releaseKeys, []);
  });

  it('gives a workspace that does not exist null, and one with webhooks off no deliveries', () => {
    const off = { ...acme, id: 'off', webhooksEnabled: false };
    const p = plan(
      [{ workspaceId: 'gone', inputs: [input()] }, { workspaceId: 'off', inputs: [input({ id: 'e_off' })] }],
      state({ workspaces: new Map([['off', off]]), webhooks: new Map([[pair('off', TOPIC), [hook('wh_off', { workspaceId: 'off' })]]]) }),
    );
    assert.equal(p.outcomes[0], null);
    assert.equal(p.outcomes[1]![0]!.created, true);
    assert.deepEqual(p.events.map((e) => [e.event.id, e.deliveries.length]), [['e_off', 0]]);
  });

  it('answers a repeated client id with the stored event, however old', () => {
    const old = stored('order-1', NOW - 30 * IDEMPOTENCY_WINDOW_MS);
    const p = plan([{ workspaceId: 'acme', inputs: [input({ id: 'order-1', clientId: true })] }], state({ eventsById: new Map([[pair('acme', 'order-1'), old]]) }));
    assert.deepEqual(p.outcomes[0], [{ event: old, created: false }]);
    assert.notEqual(p.outcomes[0]![0]!.event, old, 'a copy');
    assert.equal(p.events.length, 0);
  });

  it('answers a repeat within the same call with the first, which alone is stored', () => {
    const p = plan([
      { workspaceId: 'acme', inputs: [input({ id: 'order-2', clientId: true, data: { v: 1 } }), input({ id: 'order-2', clientId: true, data: { v: 2 } })] },
      { workspaceId: 'acme', inputs: [input({ idempotencyKey: 'k' }), input({ idempotencyKey: 'k' })] },
    ]);
    assert.equal(p.events.length, 2);
    const [first, again] = p.outcomes[0]!;
    assert.equal(first!.created, true);
    assert.equal(again!.created, false);
    assert.deepEqual(again!.event, first!.event);
    assert.equal(JSON.parse(again!.event.body).v, 1);
    assert.deepEqual(p.outcomes[1]!.map((o) => o.created), [true, false]);
    assert.equal(p.events[0]!.outcomes.length, 2, 'every outcome that answers with an event goes with it');
  });

  it('holds an idempotency key for 24 hours exactly, then lets a new event take it from the old', () => {
    const keyed = (createdAt: number) => state({ eventsByKey: new Map([[pair('acme', 'k')]].map(([k]) => [k!, stored('evt_old', createdAt)])) });
    const publishKeyed = (s: PublishState) => plan([{ workspaceId: 'acme', inputs: [input({ id: 'evt_new', idempotencyKey: 'k' })] }], s);

    const inside = publishKeyed(keyed(NOW - IDEMPOTENCY_WINDOW_MS + 1));
    assert.deepEqual(inside.outcomes[0]!.map((o) => [o.event.id, o.created]), [['evt_old', false]]);
    assert.deepEqual(inside.releaseKeys, []);

    for (const age of [IDEMPOTENCY_WINDOW_MS, IDEMPOTENCY_WINDOW_MS + 1]) {
      const expired = publishKeyed(keyed(NOW - age));
      assert.deepEqual(expired.outcomes[0]!.map((o) => [o.event.id, o.created]), [['evt_new', true]], `${age} ms old`);
      assert.deepEqual(expired.releaseKeys, [{ workspaceId: 'acme', eventId: 'evt_old' }]);
      assert.equal(expired.events[0]!.idempotencyKey, 'k');
    }
  });

  it('looks up by client id before idempotency key', () => {
    const byId = stored('order-3', NOW - 1);
    const byKey = stored('evt_keyed', NOW - 1);
    const s = state({ eventsById: new Map([[pair('acme', 'order-3'), byId]]), eventsByKey: new Map([[pair('acme', 'k'), byKey]]) });
    const p = plan([{ workspaceId: 'acme', inputs: [input({ id: 'order-3', clientId: true, idempotencyKey: 'k' })] }], s);
    assert.equal(p.outcomes[0]![0]!.event.id, 'order-3');
    // A generated id is never looked up.
    const q = plan([{ workspaceId: 'acme', inputs: [input({ id: 'order-3', clientId: false, idempotencyKey: 'k' })] }], s);
    assert.equal(q.outcomes[0]![0]!.event.id, 'evt_keyed');
  });
});

describe('the idempotency window', () => {
  it('holdsKey: held for less than 24 h after the event, not at 24 h', () => {
    assert.equal(holdsKey(NOW, NOW), true);
    assert.equal(holdsKey(NOW - IDEMPOTENCY_WINDOW_MS + 1, NOW), true);
    assert.equal(holdsKey(NOW - IDEMPOTENCY_WINDOW_MS, NOW), false);
    assert.equal(IDEMPOTENCY_WINDOW_MS, 24 * 3600 * 1000);
  });

  it('storedRepeat finds the client id however old, the key only within the window', () => {
    const s = {
      eventsById: new Map([[pair('acme', 'a'), stored('a', 0)]]),
      eventsByKey: new Map([[pair('acme', 'k'), stored('b', NOW - IDEMPOTENCY_WINDOW_MS)]]),
    };
    assert.equal(storedRepeat(s, 'acme', { id: 'a', clientId: true, idempotencyKey: null }, NOW)?.id, 'a');
    assert.equal(storedRepeat(s, 'acme', { id: 'a', clientId: false, idempotencyKey: null }, NOW), null);
    assert.equal(storedRepeat(s, 'acme', { id: 'x', clientId: false, idempotencyKey: 'k' }, NOW), null);
    assert.equal(storedRepeat(s, 'acme', { id: 'x', clientId: false, idempotencyKey: 'k' }, NOW - 1)?.id, 'b');
  });
});

describe('publishLookups', () => {
  it('lists each workspace, topic, client id and key once', () => {
    const l = publishLookups([
      { workspaceId: 'acme', inputs: [input({ id: 'a', clientId: true, idempotencyKey: 'k' }), input({ id: 'a', clientId: true }), input({ topic: 'other' })] },
      { workspaceId: 'acme', inputs: [input({ idempotencyKey: 'k' })] },
      { workspaceId: 'beta', inputs: [input()] },
    ]);
    assert.deepEqual(l.workspaceIds, ['acme', 'beta']);
    assert.deepEqual(l.topics, [['acme', TOPIC], ['acme', 'other'], ['beta', TOPIC]]);
    assert.deepEqual(l.ids, [['acme', 'a']]);
    assert.deepEqual(l.keys, [['acme', 'k']]);
  });
});
