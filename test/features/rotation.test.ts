// Secret rotation: POST …/webhooks/{id}/secret/rotate. During the grace period every request
// carries one signature per valid secret, so a receiver on the old secret and one on the new
// secret both verify it; after a rotation with grace_seconds 0 only the new secret does.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { verifyWebhook, WebhookVerificationError } from '../../src/receiver/verify.js';
import { publish, setupWebhook, startHeraldAndReceiver, stopHeraldAndReceiver, type TestHerald } from '../helpers/herald.js';
import type { Receiver, RecordedRequest } from '../helpers/receiver.js';

let h: TestHerald;
let receiver: Receiver;

before(async () => ({ h, receiver } = await startHeraldAndReceiver()));
after(() => stopHeraldAndReceiver(h, receiver));

/** The Standard Webhooks reference library, as a receiver would set it up for this secret. */
function library(secret: string): Webhook {
  return secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
}

function headersOf(req: RecordedRequest): Record<string, string> {
  return Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
}

/** Asserts that a receiver holding `secret` accepts the request (both the library and verifyWebhook). */
function accepts(req: RecordedRequest, secret: string, label: string): void {
  assert.deepEqual(library(secret).verify(req.raw, headersOf(req)), JSON.parse(req.body), `${label}: standardwebhooks refuses it`);
  assert.deepEqual(verifyWebhook(req.raw, req.headers, secret), JSON.parse(req.body), `${label}: verifyWebhook refuses it`);
}

function refuses(req: RecordedRequest, secret: string, label: string): void {
  assert.throws(() => library(secret).verify(req.raw, headersOf(req)), /No matching signature found/, `${label}: standardwebhooks accepts it`);
  assert.throws(() => verifyWebhook(req.raw, req.headers, secret), (err: unknown) => err instanceof WebhookVerificationError && /no signature matches/.test(err.message), `${label}: verifyWebhook accepts it`);
}

describe('secret rotation', () => {
  it('signs with old and new secrets during the grace period, with only the new one after grace_seconds 0', async () => {
    const path = '/rotation';
    const { ws, webhook } = await setupWebhook(h, receiver.at(path), { topic: 'walletreward_create' });
    const base = `/api/v1/workspaces/${ws}/webhooks/${webhook.id}`;
    const secretA = (await h.api('GET', `${base}/secret`)).body.secret as string;
    let sent = 0;
    async function next(): Promise<RecordedRequest> {
      await publish(h, ws, 'walletreward_create', { customer_id: '4417', amount: 100 + sent });
      sent += 1;
      return (await receiver.waitFor(sent, { path }))[sent - 1]!;
    }

    // Before any rotation: one signature.
    const before = await next();
    assert.equal(String(before.headers['webhook-signature']).split(' ').length, 1);
    accepts(before, secretA, 'A before rotating');

    // Rotate with the default grace (a day): the answer is the new secret, which is now the webhook's.
    const startedAt = Date.now();
    const rotated = await h.api('POST', `${base}/secret/rotate`, {});
    assert.equal(rotated.status, 200, rotated.text);
    const secretB = rotated.body.secret as string;
    assert.match(secretB, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.notEqual(secretB, secretA);
    const expires = Date.parse(rotated.body.previous_secret_expires_at);
    assert.ok(Math.abs(expires - (startedAt + 86_400_000)) < 10_000, `previous secret expires at ${rotated.body.previous_secret_expires_at}`);
    assert.equal((await h.api('GET', `${base}/secret`)).body.secret, secretB);

    const during = await next();
    assert.equal(String(during.headers['webhook-signature']).split(' ').length, 2);
    accepts(during, secretB, 'B (new) during the grace period');
    accepts(during, secretA, 'A (old) during the grace period');
    refuses(during, 'whsec_' + Buffer.from('never a secret of this webhook!!').toString('base64'), 'a stranger');

    // A second rotation to a chosen plain secret, with a grace of an hour: all three verify.
    const plain = 'rotated-plain-secret';
    const second = await h.api('POST', `${base}/secret/rotate`, { secret: plain, grace_seconds: 3600 });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.body.secret, plain);
    assert.ok(Math.abs(Date.parse(second.body.previous_secret_expires_at) - (Date.now() + 3_600_000)) < 10_000);
    const three = await next();
    assert.equal(String(three.headers['webhook-signature']).split(' ').length, 3);
    for (const [s, label] of [[plain, 'plain (new)'], [secretB, 'B'], [secretA, 'A']] as const) accepts(three, s, `${label} during two overlapping grace periods`);

    // grace_seconds 0: only the new secret signs from now on, the earlier ones stop at once.
    const finalRotation = await h.api('POST', `${base}/secret/rotate`, { grace_seconds: 0 });
    assert.equal(finalRotation.status, 200, finalRotation.text);
    assert.equal(finalRotation.body.previous_secret_expires_at, null);
    const secretD = finalRotation.body.secret as string;
    const after = await next();
    assert.equal(String(after.headers['webhook-signature']).split(' ').length, 1);
    accepts(after, secretD, 'D (new) after grace_seconds 0');
    refuses(after, plain, 'plain (old) after grace_seconds 0');
    refuses(after, secretB, 'B (old) after grace_seconds 0');
    refuses(after, secretA, 'A (old) after grace_seconds 0');

    // A test send signs the same way.
    const tested = await h.api('POST', `${base}/test`, {});
    assert.equal(tested.body.delivery.status, 'succeeded');
    const testReq = (await receiver.waitFor(sent + 1, { path }))[sent]!;
    accepts(testReq, secretD, 'D on a test send');
    refuses(testReq, secretA, 'A on a test send');
  });

  it('refuses bad rotation input and unknown webhooks', async () => {
    const { ws, webhook } = await setupWebhook(h, receiver.at('/rotation-bad'));
    const base = `/api/v1/workspaces/${ws}/webhooks/${webhook.id}`;
    const secret = (await h.api('GET', `${base}/secret`)).body.secret;
    for (const [body, path] of [[{ grace_seconds: -1 }, 'grace_seconds'], [{ grace_seconds: 1.5 }, 'grace_seconds'], [{ secret: '' }, 'secret'], [{ nope: 1 }, 'nope']] as const) {
      const res = await h.api('POST', `${base}/secret/rotate`, body);
      assert.equal(res.status, 400, res.text);
      assert.ok(res.body.errors.some((e: any) => e.path === path), res.text);
    }
    assert.equal((await h.api('GET', `${base}/secret`)).body.secret, secret, 'a refused rotation changes nothing');
    assert.equal((await h.api('POST', `/api/v1/workspaces/${ws}/webhooks/wh_nope/secret/rotate`, {})).status, 404);
  });
});
