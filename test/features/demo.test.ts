// `herald demo` in-process (runDemo from src/cli/demo.ts): Herald, a listener and a `demo`
// workspace with three webhooks receiving loyalty events; deliveries succeed and the listener
// prints a line per verified webhook, with the address and the key printed again below them.
// A second run on the same data directory reuses the workspace and points its webhooks at the
// new listener. And as a user runs it (src/cli/main.ts): which data directory and key it uses,
// what to do next, and on Ctrl-C what it kept.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { runDemo, type DemoHandle } from '../../src/cli/demo.js';
import { loadConfig } from '../../src/config.js';
import { tempDir, waitUntil } from '../helpers/herald.js';
import { watchChild } from '../helpers/process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

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
  const demo = await runDemo(config, { listenPort: 0, print: (line) => lines.push(line), everyMs: 200, remindEveryMs: 1000 });
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
  it('serves the "Acme Loyalty dashboard", which frames the demo workspace\'s Webhooks page (the portal)', async () => {
    const own = await tempDir();
    const lines: string[] = [];
    const config = loadConfig({}, {}, { host: '127.0.0.1', port: 0, dataDir: own, logLevel: 'silent', adminKey: undefined });
    const demo = await runDemo(config, { listenPort: 0, portalPort: 0, print: (line) => lines.push(line), everyMs: 200, remindEveryMs: 60_000 });
    try {
      const intro = lines.find((l) => l.includes('Herald demo is running'))!;
      const hostUrl = /embedded: {3}(http:\/\/127\.0\.0\.1:\d+)\/ {2}the "Acme Loyalty dashboard"/.exec(intro)?.[1];
      assert.ok(hostUrl, intro);
      const html = await (await fetch(hostUrl + '/')).text();
      assert.match(html, /Acme Loyalty/);
      const src = /<iframe id="webhooks" title="Webhooks" src="([^"]+)"/.exec(html)![1]!;
      assert.match(src, /^http:\/\/127\.0\.0\.1:\d+\/portal#hpl_/);
      // Herald lets this page, and no other, frame the portal.
      const portal = await fetch(src.split('#')[0]!, { headers: { accept: 'text/html' } });
      assert.match(portal.headers.get('content-security-policy') ?? '', new RegExp(`frame-ancestors ${hostUrl}(;|$)`));
      const opened = await fetch(new URL('/api/v1/portal/exchange', src), {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: src.split('#')[1] }),
      });
      const session = await opened.json();
      assert.equal(session.workspace_id, 'demo');
      assert.equal(session.access, 'manage');
      assert.match(await (await fetch(hostUrl + '/?access=view')).text(), /portal#hpl_/);
    } finally {
      await demo.stop();
      await rm(own, { recursive: true, force: true });
    }
  });

  it('runs Herald, a listener and a demo workspace whose three webhooks get verified deliveries', async () => {
    dir = await tempDir();
    const lines: string[] = [];
    const demo = await start(lines);
    const port = (demo.listener.address() as AddressInfo).port;

    const intro = lines.find((l) => l.includes('Herald demo is running'));
    assert.ok(intro, `no introduction printed:\n${lines.join('\n')}`);
    assert.match(intro, /dashboard: {2}http:\/\/127\.0\.0\.1:\d+\/ {2}\(admin key: hrd_/);
    assert.ok(intro.includes(`listener:   http://127.0.0.1:${port}/`));
    const address = /dashboard: {2}(http:\/\/\S+)\//.exec(intro)![1]!;
    const key = demo.herald.adminKey;
    assert.ok(intro.includes(`admin key:  generated into ${join(dir, 'admin.key')} (npx herald admin-key --data-dir ${dir} prints it)`), intro);
    assert.ok(intro.includes(`data:       ${dir} (kept when the demo stops)`), intro);
    assert.ok(intro.includes(`curl -s '${address}/api/v1/workspaces/demo/deliveries?limit=5' -H 'Authorization: Bearer ${key}'`), intro);

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
    // A line per webhook, not its body: the introduction and the key stay in sight.
    for (const l of lines.filter((x) => /topic=/.test(x))) {
      assert.match(l, /^\d\d:\d\d:\d\d {2}POST \/hooks\/\w+(\?fail=[\d.]+)? {2}topic=\w+ {2}signature verified {2}→ (200|500)$/, l);
    }
    // …and, below them, the address and the key again.
    const reminder = await waitUntil(() => lines.find((l) => l.startsWith('-- ')), { timeoutMs: 10_000, message: () => `no reminder:\n${lines.join('\n')}` });
    assert.match(reminder, new RegExp(`^-- \\d+ webhooks received so far · dashboard ${address}/ · admin key ${key} · Ctrl-C stops the demo$`));
    // The rewards webhook's filter holds: only rewards of 100 coins or more are delivered.
    const rewards = succeeded.filter((d: any) => d.topic === 'walletreward_create');
    for (const d of rewards) {
      const event = await get(demo, `/workspaces/demo/events/${d.event_id}`);
      assert.ok(event.data.amount >= 100, `a reward of ${event.data.amount} was delivered`);
    }

    await stop(demo);
    assert.match(lines.at(-1)!, new RegExp(`^Demo stopped after \\d+ webhooks\\. ${dir} keeps the demo workspace, its events and deliveries and its admin key: the next \`npx herald demo\` goes on from there, and \`rm -rf ${dir}\` removes it all\\.$`));
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

  it('as a user runs it: ./data-demo (git-ignored) and its own key, next steps, and on Ctrl-C what it kept', async () => {
    // In a directory of its own, so that the default ./data-demo is created there.
    const cwd = await tempDir();
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')));
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(ROOT, 'src/cli/main.ts'), 'demo', '--port', '0', '--listen-port', '0', '--log-level', 'warn'], {
      cwd, env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const { output, exited } = watchChild(child);
    try {
      await waitUntil(() => / {2}topic=\w+ {2}signature verified/.test(output()) || child.exitCode !== null, {
        timeoutMs: 30_000, message: () => `herald demo did not deliver:\n${output()}`,
      });
      const out = output();
      const key = (await readFile(join(cwd, 'data-demo', 'admin.key'), 'utf8')).trim();
      assert.ok(out.includes(`(admin key: ${key})`), out);
      assert.ok(out.includes("admin key:  generated into data-demo/admin.key, the demo's own, not ./data's (npx herald admin-key --data-dir ./data-demo prints it)"), out);
      assert.ok(out.includes('data:       ./data-demo (kept when the demo stops)'), out);
      assert.match(out, /Next: open the dashboard and sign in with the admin key, or ask the API:\n {2}curl -s 'http:\/\/127\.0\.0\.1:\d+\/api\/v1\/workspaces\/demo\/deliveries\?limit=5'/);
      assert.doesNotMatch(out, /"customer_id"/, 'no bodies printed');
      child.kill('SIGINT');
      assert.equal(await exited, 0, output());
      assert.match(output(), /Demo stopped after \d+ webhooks\. \.\/data-demo keeps the demo workspace, its events and deliveries and its admin key: the next `npx herald demo` goes on from there, and `rm -rf \.\/data-demo` removes it all\.\n$/);
      assert.ok((await readFile(join(ROOT, '.gitignore'), 'utf8')).split('\n').includes('data-demo/'), 'data-demo/ is git-ignored');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await rm(cwd, { recursive: true, force: true });
    }
  });
});
