// `herald demo` in-process (runDemo from src/cli/demo.ts): Herald, a listener and a `demo`
// workspace with three webhooks receiving loyalty events; deliveries succeed and the listener
// prints verified webhooks. A second run on the same data directory reuses the workspace and
// points its webhooks at the new listener.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { runDemo, type DemoHandle } from '../../src/cli/demo.js';
import { loadConfig } from '../../src/config.js';
import { tempDir, waitUntil } from '../helpers/herald.js';

let dir: string | null = null;
const handles: DemoHandle[] = [];

after(async () => {
  for (const d of handles) await d.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function get(demo: DemoHandle, url: string): Promise<any> {
  const res = await demo.herald.app!.inject({ method: 'GET', url: `/api/v1${url}`, headers: { authorization: `Bearer ${demo.herald.adminKey}` } });
  assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
  return res.json();
}

async function start(lines: string[]): Promise<DemoHandle> {
  const config = loadConfig({}, {}, { host: '127.0.0.1', port: 0, dataDir: dir!, logLevel: 'silent', adminKey: undefined });
  const demo = await runDemo(config, 0, (line) => lines.push(line), 200);
  handles.push(demo);
  return demo;
}

async function stop(demo: DemoHandle): Promise<void> {
  handles.splice(handles.indexOf(demo), 1);
  await demo.stop();
  assert.equal(demo.listener.listening, false, 'the listener is closed');
  assert.equal(demo.herald.app!.server.listening, false, 'Herald is closed');
}

describe('herald demo', () => {
  it('runs Herald, a listener and a demo workspace whose three webhooks get verified deliveries', async () => {
    dir = await tempDir();
    const lines: string[] = [];
    const demo = await start(lines);
    const port = (demo.listener.address() as AddressInfo).port;

    const intro = lines.find((l) => l.includes('Herald demo is running'));
    assert.ok(intro, `no introduction printed:\n${lines.join('\n')}`);
    assert.match(intro, /dashboard: {2}http:\/\/127\.0\.0\.1:\d+\/ {2}\(admin key: hrd_/);
    assert.ok(intro.includes(`listener:   http://127.0.0.1:${port}/`));

    const workspace = await get(demo, '/workspaces/demo');
    assert.equal(workspace.webhooks_enabled, true);
    const webhooks = (await get(demo, '/workspaces/demo/webhooks')).data;
    assert.equal(webhooks.length, 3);
    assert.deepEqual(webhooks.map((w: any) => w.topic).sort(), ['coupon_create', 'lead_create', 'walletreward_create']);
    for (const w of webhooks) assert.ok(w.url.startsWith(`http://127.0.0.1:${port}/hooks/`), w.url);

    // Within a few seconds: deliveries, some of them succeeded, and verified webhooks printed.
    const succeeded = await waitUntil(async () => {
      const all = (await get(demo, '/workspaces/demo/deliveries?limit=500')).data;
      const ok = all.filter((d: any) => d.status === 'succeeded');
      const topics = new Set(ok.map((d: any) => d.topic));
      return topics.has('walletreward_create') && topics.has('lead_create') && ok.length >= 5 ? ok : null;
    }, { timeoutMs: 20_000, message: 'the demo did not deliver within 20 s' });
    assert.ok(succeeded.length >= 5);
    const events = (await get(demo, '/workspaces/demo/events?limit=500')).data;
    assert.ok(events.length >= 5, `${events.length} events`);
    const verified = lines.filter((l) => /signature verified/.test(l));
    assert.ok(verified.length >= 3, `listener output:\n${lines.join('\n')}`);
    assert.ok(verified.some((l) => /topic=walletreward_create/.test(l)));
    assert.equal(lines.filter((l) => /NOT verified/.test(l)).length, 0);
    // The rewards webhook's filter holds: only rewards of 100 coins or more arrive.
    for (const l of lines.filter((x) => /topic=walletreward_create/.test(x))) {
      const amount = Number(/"amount": (\d+)/.exec(l)?.[1]);
      assert.ok(amount >= 100, `a reward of ${amount} was delivered:\n${l}`);
    }

    await stop(demo);
  });

  it('reuses the demo workspace on the same data directory, pointing it at the new listener', async () => {
    assert.ok(dir, 'runs after the first test');
    const lines: string[] = [];
    const demo = await start(lines);
    const port = (demo.listener.address() as AddressInfo).port;
    const startedAt = new Date().toISOString();
    const webhooks = (await get(demo, '/workspaces/demo/webhooks')).data;
    assert.equal(webhooks.length, 3, 'no webhooks added twice');
    for (const w of webhooks) assert.ok(w.url.startsWith(`http://127.0.0.1:${port}/hooks/`), `${w.url} does not point at the listener on ${port}`);
    await waitUntil(async () => {
      const all = (await get(demo, '/workspaces/demo/deliveries?status=succeeded&limit=500')).data;
      return all.some((d: any) => d.updated_at > startedAt) && lines.some((l) => /signature verified/.test(l));
    }, { timeoutMs: 20_000, message: () => `no delivery after the restart:\n${lines.join('\n')}` });
    await stop(demo);
  });
});
