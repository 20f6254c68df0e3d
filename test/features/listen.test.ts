// `herald listen` as a user runs it: a child process (src/cli/main.ts through tsx) that prints
// each webhook it gets — topic, delivery id, whether the signature verifies, the body pretty
// printed — and answers 200, or 500 with --fail-rate, after --delay-ms.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { generateKeyPair, parsePrivateKey } from '../../src/domain/ed25519.js';
import { signedHeaders, signingSecret } from '../../src/domain/signing.js';
import { publish, setupWebhook, startHerald, waitUntil } from '../helpers/herald.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECRET = 'listen-secret';

interface Listener {
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

const running = new Set<Listener>();
after(async () => {
  for (const l of running) await l.stop();
});

/** Spawns `herald listen --port 0 …` and resolves once it says where it listens. */
async function startListen(...args: string[]): Promise<Listener> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'listen', '--port', '0', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listener: Listener = {
    url: '',
    child,
    output: () => out,
    async stop() {
      running.delete(listener);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  running.add(listener);
  const m = await waitUntil(() => /waiting for webhooks on (http:\/\/127\.0\.0\.1:\d+)\//.exec(out) ?? (child.exitCode !== null ? 'exited' : null), {
    timeoutMs: 30_000,
    message: () => `herald listen did not start:\n${out}`,
  });
  assert.notEqual(m, 'exited', `herald listen exited:\n${out}`);
  listener.url = (m as RegExpExecArray)[1]!;
  return listener;
}

/** POSTs a body signed as Herald signs it (src/domain/signing.ts), with `secret` (and an ed25519 webhook's private key). */
async function sendSigned(url: string, data: unknown, secret: string, deliveryId: string, topic = 'acme_walletreward_create', privateKey?: string) {
  const body = JSON.stringify(data);
  const headers = signedHeaders({
    prefix: 'x-nector', topic, deliveryId, timestamp: Math.floor(Date.now() / 1000), body,
    secrets: [signingSecret(secret)], signingKeys: privateKey ? [parsePrivateKey(privateKey)] : undefined, userAgent: 'Herald/test',
  });
  const started = Date.now();
  const res = await fetch(`${url}/hooks`, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text(), ms: Date.now() - started };
}

/** The block the listener printed for one delivery id: its header line and the body below it. */
async function printed(l: Listener, deliveryId: string): Promise<string> {
  await waitUntil(() => l.output().includes(`id=${deliveryId}`), { timeoutMs: 10_000, message: () => `nothing printed for ${deliveryId}:\n${l.output()}` });
  const blocks = l.output().split(/\n(?=\d{4}-\d{2}-\d{2}T)/);
  return blocks.find((b) => b.includes(`id=${deliveryId}`))!;
}

describe('herald listen', () => {
  /** `herald listen --secret S`, shared by the first two tests. */
  let l: Listener;
  before(async () => {
    l = await startListen('--secret', SECRET);
  });

  it('prints topic, delivery id, "verified" and the pretty body, and answers 200', async () => {
    const data = { customer_id: '4417', name: 'Priya Sharma', amount: 250, metadetail: { country: 'usa' } };
    const res = await sendSigned(l.url, data, SECRET, 'dlv_listen_ok');
    assert.equal(res.status, 200);
    assert.equal(res.text, 'ok');
    const block = await printed(l, 'dlv_listen_ok');
    assert.match(block, /POST \/hooks/);
    assert.match(block, /topic=acme_walletreward_create/);
    assert.match(block, /id=dlv_listen_ok/);
    assert.match(block, /signature verified/);
    assert.doesNotMatch(block, /NOT verified/);
    assert.ok(block.includes(JSON.stringify(data, null, 2)), `the body is not pretty-printed:\n${block}`);

    // A wrong signature (another secret) and a changed body are reported, still answered 200.
    const wrong = await sendSigned(l.url, data, 'some-other-secret', 'dlv_listen_bad');
    assert.equal(wrong.status, 200);
    assert.match(await printed(l, 'dlv_listen_bad'), /signature NOT verified: no signature matches the secret/);
    const headers = signedHeaders({
      prefix: 'x-nector', topic: 'lead_create', deliveryId: 'dlv_listen_tampered', timestamp: Math.floor(Date.now() / 1000),
      body: '{"a":1}', secrets: [signingSecret(SECRET)], userAgent: 'Herald/test',
    });
    await fetch(`${l.url}/hooks`, { method: 'POST', headers, body: '{"a":2}' });
    assert.match(await printed(l, 'dlv_listen_tampered'), /topic=lead_create .*signature NOT verified/);
  });

  it('verifies and prints what a real Herald delivers to it', async () => {
    const h = await startHerald();
    try {
      const { ws } = await setupWebhook(h, `${l.url}/hooks/rewards`, { secret: SECRET, prefix: 'acme_' }, { name: 'Acme Coffee' });
      const event = await publish(h, ws, 'walletreward_create', { customer_id: '4417', amount: 250 });
      const [delivery] = (await h.api('GET', `/api/v1/workspaces/${ws}/deliveries?event_id=${event.id}`)).body.data;
      const block = await printed(l, delivery.id);
      assert.match(block, /topic=acme_walletreward_create/);
      assert.match(block, /signature verified/);
      assert.match(block, /"business_name": "Acme Coffee"/);
      await waitUntil(async () => (await h.api('GET', `/api/v1/workspaces/${ws}/deliveries/${delivery.id}`)).body.status === 'succeeded');
    } finally {
      await h.stop();
    }
  });

  it('answers 500 with --fail-rate 1 and waits --delay-ms before answering', async () => {
    const [failing, slow] = await Promise.all([startListen('--secret', SECRET, '--fail-rate', '1'), startListen('--delay-ms', '300')]);
    const failed = await sendSigned(failing.url, { amount: 1 }, SECRET, 'dlv_listen_500');
    assert.equal(failed.status, 500);
    assert.equal(failed.text, 'failing on purpose');
    assert.match(await printed(failing, 'dlv_listen_500'), /signature verified {2}→ answering 500 \(--fail-rate\)/);

    const delayed = await sendSigned(slow.url, { amount: 2 }, SECRET, 'dlv_listen_slow');
    assert.equal(delayed.status, 200);
    assert.ok(delayed.ms >= 290, `answered after ${delayed.ms} ms`);
    // Without --secret nothing is checked, and it says so.
    assert.match(await printed(slow, 'dlv_listen_slow'), /signature not checked \(start with --secret or --public-key to verify\)/);
  });

  it('verifies an ed25519 webhook with --public-key alone', async () => {
    const keys = generateKeyPair();
    const other = generateKeyPair();
    const byKey = await startListen('--public-key', keys.publicKey);
    const ok = await sendSigned(byKey.url, { amount: 3 }, 'a-secret-it-does-not-know', 'dlv_listen_v1a', 'lead_create', keys.privateKey);
    assert.equal(ok.status, 200);
    assert.match(await printed(byKey, 'dlv_listen_v1a'), /signature verified/);
    await sendSigned(byKey.url, { amount: 3 }, 'a-secret-it-does-not-know', 'dlv_listen_v1a_other', 'lead_create', other.privateKey);
    assert.match(await printed(byKey, 'dlv_listen_v1a_other'), /signature NOT verified: no v1a signature matches the public key/);
    await sendSigned(byKey.url, { amount: 3 }, SECRET, 'dlv_listen_v1_only');
    assert.match(await printed(byKey, 'dlv_listen_v1_only'), /signature NOT verified: no v1a signature matches the public key/);
  });

  it('refuses bad options', async () => {
    for (const [args, message] of [
      [['--fail-rate', '2'], /--fail-rate must be a number from 0 to 1/],
      [['--delay-ms', 'soon'], /--delay-ms must be a number/],
      [['--public-key', 'whsec_abc'], /--public-key: an Ed25519 public key must start with whpk_/],
    ] as const) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'listen', '--port', '0', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      assert.equal(code, 2, err);
      assert.match(err, message);
    }
  });
});
