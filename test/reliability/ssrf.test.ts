// SSRF, end to end with HERALD_ALLOW_PRIVATE_TARGETS=false: webhooks aimed at loopback,
// link-local or private addresses (however spelled) are refused with a 400 naming `url`, and
// a webhook whose stored URL points at this machine anyway is refused when sending: its
// attempt records why, and the local receiver gets nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWorkspace, getDelivery, listDeliveries, publish, startHerald, waitUntil, type TestHerald } from '../helpers/herald.js';
import { queueDrained } from '../helpers/reliability.js';
import { Receiver } from '../helpers/receiver.js';
import { newId } from '../../src/domain/ids.js';
import { generateSecret } from '../../src/domain/signing.js';

let h: TestHerald;
let receiver: Receiver;
before(async () => {
  h = await startHerald({ allowPrivateTargets: false, maxRetries: 1, retryBaseMs: 100, retryFactor: 1, circuitThreshold: 1000 });
  receiver = await Receiver.start();
});
after(async () => {
  await h?.stop();
  await receiver?.close();
});

const REFUSED = [
  'http://127.0.0.1/',
  'http://[::1]/',
  'http://169.254.169.254/latest/meta-data/',
  'http://0x7f.1/',
  'http://localhost/',
  'http://LOCALHOST.:8080/hook',
  'http://api.localhost/',
  'http://2130706433/',
  'http://0177.0.0.1/',
  'http://127.1/',
  'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:7f00:1]/',
  'http://0.0.0.0/',
  'http://10.1.2.3/',
  'http://172.16.0.1/',
  'http://192.168.1.1/',
  'http://100.64.0.1/',
  'http://[fd00::1]/',
  'http://[fe80::1]/',
  'https://[::]/',
];

describe('SSRF: webhooks may not target this machine or private networks', { timeout: 60_000 }, () => {
  it('creating or changing a webhook to a non-public address is a 400 that names url', async () => {
    const ws = (await createWorkspace(h)).id as string;
    for (const url of REFUSED) {
      const res = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks`, { topic: 'order_create', url });
      assert.equal(res.status, 400, `${url}: ${res.status} ${res.text}`);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.ok(res.body.errors?.some((e: any) => e.path === 'url'), `${url}: ${res.text}`);
    }
    // A public literal is accepted (nothing is sent to it here), and cannot be switched to a private one.
    const ok = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks`, { topic: 'order_create', url: 'https://93.184.215.14/hook', enabled: false });
    assert.equal(ok.status, 201, ok.text);
    for (const url of ['http://127.0.0.1:9/', 'http://[::1]:9/', 'http://169.254.169.254/']) {
      const res = await h.api('PATCH', `/api/v1/workspaces/${ws}/webhooks/${ok.body.id}`, { url });
      assert.equal(res.status, 400, `${url}: ${res.text}`);
      assert.ok(res.body.errors?.some((e: any) => e.path === 'url'));
    }
    const list = await h.api('GET', `/api/v1/workspaces/${ws}/webhooks`);
    assert.equal(list.body.data.length, 1, 'nothing of the refused webhooks was stored');
    assert.equal(list.body.data[0].url, 'https://93.184.215.14/hook');
  });

  it('a stored webhook that points at loopback is refused at send time; the receiver gets nothing', async () => {
    const ws = (await createWorkspace(h)).id as string;
    const port = new URL(receiver.url).port;
    // As if created while private targets were allowed: straight into the store.
    const urls = { order_create: receiver.at('/literal'), order_update: `http://localhost:${port}/by-name`, lead_create: `http://[::ffff:127.0.0.1]:${port}/mapped` };
    const now = Date.now();
    for (const [topic, url] of Object.entries(urls)) {
      await h.herald.store.createWebhook({
        id: newId('wh', now), workspaceId: ws, topic, url, secret: generateSecret(), prefix: '', filter: null, headers: {},
        description: null, enabled: true, disabledReason: null, rateLimit: null, previousSecrets: [], signing: 'hmac', signingKey: null, publicKey: null, previousSigningKeys: [], ordering: 'none', paused: false,
        createdAt: now, updatedAt: now,
      });
    }
    for (const topic of Object.keys(urls)) await publish(h, ws, topic, { order_id: `S-${topic}` });
    await waitUntil(() => queueDrained(h.api, ws), { timeoutMs: 20_000, message: 'deliveries still pending' });
    const deliveries = await listDeliveries(h, ws);
    assert.equal(deliveries.length, 3);
    for (const d of deliveries) {
      assert.equal(d.status, 'failed');
      const detail = await getDelivery(h, ws, d.id);
      assert.equal(detail.attempts.length, 2);
      for (const a of detail.attempts) {
        assert.equal(a.status_code, null);
        assert.match(a.error, /refused/i, `${d.url}: ${a.error}`);
        assert.match(a.error, /loopback/, `${d.url}: ${a.error}`);
      }
    }

    // A test send is refused the same way.
    const hooks = (await h.api('GET', `/api/v1/workspaces/${ws}/webhooks`)).body.data;
    for (const w of hooks) {
      const test = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks/${w.id}/test`, {});
      assert.equal(test.status, 200, test.text);
      assert.match(test.body.delivery.attempts[0].error, /refused/i);
    }
    assert.equal(receiver.count(), 0, 'a refused target received a request');
    assert.equal(receiver.maxSockets, 0, 'a refused target was even connected to');
  });
});
