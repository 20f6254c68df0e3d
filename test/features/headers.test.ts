// Custom headers: a webhook's `headers` arrive at the receiver with every request (and are
// recorded with each attempt); names that Herald sets itself or hop-by-hop ones are refused
// with a 400 naming `headers.<name>`, on create and on update, and nothing is stored.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { verifyWebhook } from '../../src/receiver/verify.js';
import { createWorkspace, publish, setupWebhook, startHeraldAndReceiver, stopHeraldAndReceiver, waitForDelivery, type TestHerald } from '../helpers/herald.js';
import type { Receiver } from '../helpers/receiver.js';

let h: TestHerald;
let receiver: Receiver;

before(async () => ({ h, receiver } = await startHeraldAndReceiver()));
after(() => stopHeraldAndReceiver(h, receiver));

const RESERVED = [
  'x-nector-topic', 'X-Nector-Webhook-Hmac', 'webhook-signature', 'Webhook-Id', 'content-type', 'Content-Length',
  'connection', 'transfer-encoding', 'user-agent', 'host', 'upgrade',
];

describe("a webhook's custom headers", () => {
  it('arrive at the receiver with every request, and follow an update', async () => {
    const path = '/custom-headers';
    const headers = { 'x-tenant': 'acme', Authorization: 'Bearer downstream-token', 'X-Mixed-Case': 'Value With Spaces' };
    const { ws, webhook } = await setupWebhook(h, receiver.at(path), { headers, secret: 'custom-headers-secret' });
    assert.deepEqual(webhook.headers, headers);
    assert.deepEqual((await h.api('GET', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}`)).body.headers, headers);

    const event = await publish(h, ws, 'walletreward_create', { customer_id: '4417', amount: 250 });
    const [req] = await receiver.waitFor(1, { path });
    assert.equal(req!.headers['x-tenant'], 'acme');
    assert.equal(req!.headers['authorization'], 'Bearer downstream-token');
    assert.equal(req!.headers['x-mixed-case'], 'Value With Spaces');
    // Herald's own headers are intact beside them.
    assert.equal(req!.headers['x-nector-topic'], 'walletreward_create');
    assert.equal(req!.headers['content-type'], 'application/json');
    assert.equal(verifyWebhook<{ amount: number }>(req!.raw, req!.headers, 'custom-headers-secret').amount, 250);
    const [delivery] = (await h.api('GET', `/api/v1/workspaces/${ws}/deliveries?event_id=${event.id}`)).body.data;
    const detail = await waitForDelivery(h, ws, delivery.id, (d) => d.status === 'succeeded');
    assert.equal(detail.attempts[0].request_headers['x-tenant'], 'acme');

    // PATCH replaces them.
    const patched = await h.api('PATCH', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}`, { headers: { 'x-region': 'eu' } });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual(patched.body.headers, { 'x-region': 'eu' });
    await publish(h, ws, 'walletreward_create', { customer_id: '4418', amount: 20 });
    const [, second] = await receiver.waitFor(2, { path });
    assert.equal(second!.headers['x-region'], 'eu');
    assert.equal(second!.headers['x-tenant'], undefined);
    assert.equal(second!.headers['authorization'], undefined);

    // A test send carries them too.
    const tested = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}/test`, {});
    assert.equal(tested.body.delivery.status, 'succeeded');
    assert.equal((await receiver.waitFor(3, { path }))[2]!.headers['x-region'], 'eu');
  });

  it("refuse Herald's own and hop-by-hop names with a 400 naming headers.<name>", async () => {
    const ws = (await createWorkspace(h)).id;
    const base = `/api/v1/workspaces/${ws}/webhooks`;
    for (const name of RESERVED) {
      const res = await h.api('POST', base, { topic: 'walletreward_create', url: receiver.at('/never'), headers: { 'x-fine': 'ok', [name]: 'x' } });
      assert.equal(res.status, 400, `${name}: ${res.text}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.deepEqual(res.body.errors.map((e: any) => e.path), [`headers.${name}`], res.text);
      assert.match(res.body.detail, new RegExp(`headers\\.${name}`));
    }
    // Several at once: each named.
    const many = await h.api('POST', base, {
      topic: 'walletreward_create', url: receiver.at('/never'),
      headers: { 'x-nector-topic': 'a', 'webhook-signature': 'b', 'content-type': 'c', connection: 'd', 'transfer-encoding': 'e' },
    });
    assert.equal(many.status, 400);
    assert.deepEqual(many.body.errors.map((e: any) => e.path).sort(), ['headers.connection', 'headers.content-type', 'headers.transfer-encoding', 'headers.webhook-signature', 'headers.x-nector-topic']);
    // Nothing was stored.
    assert.deepEqual((await h.api('GET', base)).body.data, []);

    // On update too, and the webhook keeps its headers.
    const created = await h.api('POST', base, { topic: 'walletreward_create', url: receiver.at('/never'), headers: { 'x-fine': 'ok' } });
    assert.equal(created.status, 201, created.text);
    for (const name of ['x-nector-topic', 'webhook-signature', 'content-type', 'connection', 'transfer-encoding']) {
      const res = await h.api('PATCH', `${base}/${created.body.id}`, { headers: { [name]: 'x' } });
      assert.equal(res.status, 400, `${name}: ${res.text}`);
      assert.deepEqual(res.body.errors.map((e: any) => e.path), [`headers.${name}`]);
    }
    assert.deepEqual((await h.api('GET', `${base}/${created.body.id}`)).body.headers, { 'x-fine': 'ok' });

    // Invalid names and values.
    const badName = await h.api('POST', base, { topic: 'walletreward_create', url: receiver.at('/never'), headers: { 'bad name': 'x' } });
    assert.equal(badName.status, 400);
    assert.deepEqual(badName.body.errors.map((e: any) => e.path), ['headers.bad name']);
    const badValue = await h.api('POST', base, { topic: 'walletreward_create', url: receiver.at('/never'), headers: { 'x-inject': 'a\r\nx-evil: 1' } });
    assert.equal(badValue.status, 400);
    assert.deepEqual(badValue.body.errors.map((e: any) => e.path), ['headers.x-inject']);
    const notString = await h.api('POST', base, { topic: 'walletreward_create', url: receiver.at('/never'), headers: { 'x-number': 1 } });
    assert.equal(notString.status, 400);
    assert.match(JSON.stringify(notString.body.errors), /headers/);
    assert.equal((await h.api('GET', base)).body.data.length, 1);
  });
});
