import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHerald, setupWebhook, publish, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
let h: TestHerald; let r: Receiver;
before(async () => { h = await startHerald(); r = await startReceiver(); });
after(async () => { await h?.stop(); await r?.close(); });
it('smoke', async () => {
  const { ws } = await setupWebhook(h, r.at('/a'));
  const e = await publish(h, ws, 'walletreward_create', { amount: 5 });
  assert.equal(e.deliveries, 1);
  const [req] = await r.waitFor(1);
  console.log(req.headers, req.body);
  const t = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks/${(await h.api('GET', `/api/v1/workspaces/${ws}/webhooks`)).body.data[0].id}/test`);
  console.log(t.status, JSON.stringify(t.body).slice(0, 300));
});
