// traceparent (contract section 9): a publish's W3C traceparent header is kept with the event,
// and every attempt of each of its deliveries carries a traceparent with the same trace id and
// a span id of its own (a new one per attempt). A malformed header is ignored, not refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseTraceparent } from '../../src/domain/traceparent.js';
import { setupWebhook, startHeraldAndReceiver, stopHeraldAndReceiver, waitForDelivery, type TestHerald } from '../helpers/herald.js';
import type { Receiver, RecordedRequest } from '../helpers/receiver.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

let h: TestHerald;
let receiver: Receiver;
before(async () => ({ h, receiver } = await startHeraldAndReceiver()));
after(() => stopHeraldAndReceiver(h, receiver));

function traceOf(req: RecordedRequest) {
  const t = parseTraceparent(req.headers.traceparent);
  assert.ok(t, `a valid traceparent on the attempt: ${req.headers.traceparent}`);
  return t;
}

describe('traceparent', () => {
  it('each attempt is a child span of the publish: the same trace id, a new span id per attempt', async () => {
    const path = '/traced';
    const { ws, webhook } = await setupWebhook(h, receiver.at(path));
    receiver.enqueue({ status: 500 }, { status: 503 });
    const res = await h.api('POST', `/api/v1/workspaces/${ws}/events`, { topic: 'walletreward_create', data: { amount: 1 } }, undefined, {
      headers: { traceparent: PARENT },
    });
    assert.equal(res.status, 202, res.text);
    const attempts = await receiver.waitFor(3, { path });
    const spans = attempts.map((req) => {
      const t = traceOf(req);
      assert.equal(t.traceId, TRACE_ID, 'the same trace');
      assert.equal(t.flags, '01', 'the sampled flag is kept');
      return t.parentId;
    });
    assert.equal(new Set(spans).size, 3, `a span of its own per attempt: ${spans.join(', ')}`);
    assert.ok(!spans.includes('00f067aa0ba902b7'), "not the publisher's span");
    const [delivery] = (await h.api('GET', `/api/v1/workspaces/${ws}/deliveries?webhook_id=${webhook.id}`)).body.data;
    const done = await waitForDelivery(h, ws, delivery.id, (d) => d.status === 'succeeded');
    assert.deepEqual(done.attempts.map((a: any) => parseTraceparent(a.request_headers.traceparent)?.parentId), spans, 'recorded with each attempt');
  });

  it('a batch keeps one traceparent for each of its events; without one or with a malformed one, attempts carry none', async () => {
    const path = '/traced-batch';
    const { ws } = await setupWebhook(h, receiver.at(path));
    const events = [1, 2].map((n) => ({ topic: 'walletreward_create', data: { n } }));
    const batch = await h.api('POST', `/api/v1/workspaces/${ws}/events/batch`, { events }, undefined, { headers: { traceparent: PARENT } });
    assert.equal(batch.status, 202, batch.text);
    const got = await receiver.waitFor(2, { path });
    for (const req of got) assert.equal(traceOf(req).traceId, TRACE_ID);
    assert.notEqual(traceOf(got[0]!).parentId, traceOf(got[1]!).parentId);

    for (const header of ['00-not-a-trace-01', `00-${TRACE_ID.toUpperCase()}-00f067aa0ba902b7-01`, `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, null]) {
      const before = receiver.requests.filter((r) => r.path === path).length;
      const res = await h.api('POST', `/api/v1/workspaces/${ws}/events`, { topic: 'walletreward_create', data: { header } }, undefined, {
        headers: header === null ? {} : { traceparent: header },
      });
      assert.equal(res.status, 202, `a malformed traceparent is ignored, not refused: ${res.text}`);
      const [req] = (await receiver.waitFor(before + 1, { path })).slice(before);
      assert.equal(req!.headers.traceparent, undefined, `no traceparent for ${header}`);
    }
  });
});
