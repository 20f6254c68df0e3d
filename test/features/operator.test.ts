// What a new operator meets, with the real CLI (src/cli/main.ts through tsx) as a child process:
// a port already in use is one line saying how to choose another, the admin key is either
// printed or said to be in data/admin.key and `herald admin-key` prints it, each command's
// --help lists its own options (serve's with their defaults), on/off options work alone, and
// a refused private target says which setting allows it.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir, waitUntil } from '../helpers/herald.js';
import { watchChild } from '../helpers/process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dirs: string[] = [];
const stops: (() => Promise<void>)[] = [];
after(async () => {
  for (const stop of stops) await stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** An environment without the HERALD_* variables of whoever runs the tests. */
function env(vars: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_')));
  return { ...clean, HERALD_LOG_LEVEL: 'warn', ...vars };
}

function spawnCli(args: string[], vars: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT, env: env(vars), stdio: ['ignore', 'pipe', 'pipe'] });
  return { child, ...watchChild(child) };
}

/** Runs a command to its end: its exit code and everything it printed. */
async function run(args: string[], vars: Record<string, string> = {}): Promise<{ code: number | string; out: string }> {
  const { exited, output } = spawnCli(args, vars);
  const code = await exited;
  return { code, out: output() };
}

/** Starts `herald serve …` and resolves with its address once it listens; stopped after the tests. */
async function serve(args: string[], vars: Record<string, string>): Promise<{ url: string; out: () => string }> {
  const { child, exited, output } = spawnCli(['serve', '--port', '0', ...args], vars);
  stops.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  const m = await waitUntil(() => /listening on (http:\/\/\S+)/.exec(output()) ?? (child.exitCode !== null ? 'exited' : null), {
    timeoutMs: 30_000, message: () => `herald serve did not start:\n${output()}`,
  });
  assert.notEqual(m, 'exited', `herald serve exited:\n${output()}`);
  return { url: (m as RegExpExecArray)[1]!, out: output };
}

/** A port something else listens on. */
async function takenPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stops.push(() => new Promise((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

async function newDir(): Promise<string> {
  const dir = await tempDir();
  dirs.push(dir);
  return dir;
}

describe('what a new operator meets', () => {
  it('a port in use is one line naming it and how to choose another; the key generated meanwhile is said to be in admin.key, and herald admin-key prints it', async () => {
    const port = await takenPort();
    const dir = await newDir();
    const first = await run(['serve'], { HERALD_PORT: String(port), HERALD_DATA_DIR: dir });
    assert.equal(first.code, 1, first.out);
    assert.ok(first.out.includes(`herald: Herald cannot listen on 127.0.0.1:${port}: the port is already in use; choose another with HERALD_PORT=${port + 1} or --port ${port + 1}\n`), first.out);
    assert.doesNotMatch(first.out, /\n\s+at /, 'no stack trace');
    assert.ok(first.out.includes(`Herald generated the admin key into ${join(dir, 'admin.key')} (npx herald admin-key --data-dir ${dir} prints it).`), first.out);
    const stored = (await readFile(join(dir, 'admin.key'), 'utf8')).trim();
    assert.match(stored, /^hrd_admin_/);

    // A second failing start says where the key is too.
    const again = await run(['serve', '--port', String(port), '--data-dir', dir]);
    assert.equal(again.code, 1, again.out);
    assert.ok(again.out.includes(`Admin key: in ${join(dir, 'admin.key')} (npx herald admin-key --data-dir ${dir} prints it).`), again.out);

    // herald admin-key prints it alone on a line (from --data-dir, or HERALD_DATA_DIR).
    assert.deepEqual(await run(['admin-key', '--data-dir', dir]), { code: 0, out: `${stored}\n` });
    assert.deepEqual(await run(['admin-key'], { HERALD_DATA_DIR: dir }), { code: 0, out: `${stored}\n` });

    // The first start that listens did not generate the key, and says where it is.
    const started = await serve([], { HERALD_DATA_DIR: dir });
    assert.match(started.out(), new RegExp(`Admin key: in ${join(dir, 'admin.key').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
    const me = await fetch(`${started.url}/api/v1/workspaces`, { headers: { authorization: `Bearer ${stored}` } });
    assert.equal(me.status, 200);
  });

  it('a first start that listens prints the key it generated, and how to print it again', async () => {
    const dir = await newDir();
    const started = await serve([], { HERALD_DATA_DIR: dir });
    const stored = (await readFile(join(dir, 'admin.key'), 'utf8')).trim();
    assert.ok(started.out().includes(`stored in ${join(dir, 'admin.key')}; npx herald admin-key --data-dir ${dir} prints it again):\n\n    ${stored}\n`), started.out());
    assert.doesNotMatch(started.out(), /Admin key: in/);
  });

  it('herald admin-key prints HERALD_ADMIN_KEY, and says clearly when there is no key', async () => {
    const dir = await newDir();
    assert.deepEqual(await run(['admin-key', '--data-dir', dir], { HERALD_ADMIN_KEY: 'hrd_admin_from-the-environment' }), { code: 0, out: 'hrd_admin_from-the-environment\n' });
    const none = await run(['admin-key', '--data-dir', join(dir, 'nothing-here')]);
    assert.equal(none.code, 1);
    assert.ok(none.out.startsWith(`herald: no admin key: HERALD_ADMIN_KEY is not set and ${join(dir, 'nothing-here', 'admin.key')} does not exist\n`), none.out);
    assert.doesNotMatch(none.out, /\n\s+at /);
    assert.equal(existsSync(join(dir, 'nothing-here')), false, 'admin-key creates nothing');
  });

  it("herald demo on a taken port says which one, Herald's or the listener's, and how to choose another", async () => {
    const port = await takenPort();
    const dir = await newDir();
    const herald = await run(['demo', '--port', String(port), '--listen-port', '0', '--data-dir', dir]);
    assert.equal(herald.code, 1, herald.out);
    assert.ok(herald.out.includes(`herald: Herald cannot listen on 127.0.0.1:${port}: the port is already in use; choose another with HERALD_PORT=${port + 1} or --port ${port + 1}\n`), herald.out);
    const listener = await run(['demo', '--port', '0', '--listen-port', String(port), '--data-dir', dir]);
    assert.equal(listener.code, 1, listener.out);
    assert.ok(listener.out.includes(`herald: the demo's listener cannot listen on 127.0.0.1:${port}: the port is already in use; choose another with --listen-port ${port + 1}\n`), listener.out);
    for (const out of [herald.out, listener.out]) assert.doesNotMatch(out, /\n\s+at /);
    const taken = await run(['listen', '--port', String(port)]);
    assert.equal(taken.code, 1);
    assert.ok(taken.out.includes(`herald: the listener cannot listen on 127.0.0.1:${port}: the port is already in use; choose another with --port ${port + 1}\n`), taken.out);
  });

  it('each command lists its own options; serve shows the defaults', async () => {
    const help = async (command: string) => {
      const { code, out } = await run([command, '--help']);
      assert.equal(code, 0, out);
      return out.replace(/\s+/g, ' ');
    };
    const [serveHelp, migrateHelp, demoHelp, keyHelp] = await Promise.all(['serve', 'migrate', 'demo', 'admin-key'].map(help));
    assert.ok(serveHelp.includes('--port <value> port to listen on (HERALD_PORT, default: 8080)'), serveHelp);
    assert.ok(serveHelp.includes('(HERALD_MAX_RETRIES, default: 5)'), serveHelp);
    assert.ok(serveHelp.includes('--allow-private-targets [true|false]'), serveHelp);
    assert.ok(serveHelp.includes('--no-delivery-thread'), serveHelp);
    const flags = (text: string) => [...text.matchAll(/ (--[a-z-]+)/g)].map((m) => m[1]).filter((f) => f !== '--help');
    assert.deepEqual(flags(migrateHelp), ['--data-dir', '--database-url', '--database-schema', '--log-level']);
    assert.deepEqual(flags(demoHelp), ['--host', '--port', '--data-dir', '--log-level', '--listen-port', '--portal-port']);
    assert.ok(demoHelp.includes('(HERALD_DATA_DIR, default: ./data-demo)'), demoHelp);
    assert.deepEqual(flags(keyHelp), ['--data-dir']);
    // A serve option given to migrate is refused, not silently ignored.
    const wrong = await run(['migrate', '--port', '9']);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.out, /unknown option '--port'/);
  });

  it('--allow-private-targets alone allows local targets; false, --no-… and no flag refuse them, naming the setting', async () => {
    const key = 'hrd_admin_operator-test-key-0123456789';
    const vars = async () => ({ HERALD_DATA_DIR: await newDir(), HERALD_ADMIN_KEY: key });
    const create = async (url: string, path: string) => {
      const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      await fetch(`${url}/api/v1/workspaces`, { method: 'POST', headers: auth, body: JSON.stringify({ id: 'acme', name: 'Acme' }) });
      const res = await fetch(`${url}/api/v1/workspaces/acme/webhooks`, {
        method: 'POST', headers: auth, body: JSON.stringify({ topic: 'walletreward_create', url: `http://127.0.0.1:9000/${path}` }),
      });
      return { status: res.status, body: (await res.json()) as { detail?: string } };
    };
    const [allowed, ...strict] = await Promise.all(
      [['--allow-private-targets'], ['--allow-private-targets', 'false'], ['--no-allow-private-targets'], []].map(async (args) => serve(args, await vars())),
    );
    assert.equal((await create(allowed!.url, 'alone')).status, 201);
    for (const s of strict) {
      const refused = await create(s.url, 'refused');
      assert.equal(refused.status, 400);
      assert.equal(refused.body.detail, 'url: 127.0.0.1 is a loopback address; set HERALD_ALLOW_PRIVATE_TARGETS=true to allow it (for local testing)');
    }
  });

  it("the Quick start's first command starts Herald with HERALD_ALLOW_PRIVATE_TARGETS=true", async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const quickStart = readme.slice(readme.indexOf('## Quick start'));
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(quickStart)![1]!;
    assert.match(firstBlock.split('\n')[0]!, /^npm install && HERALD_ALLOW_PRIVATE_TARGETS=true npm start\b/);
  });
});
