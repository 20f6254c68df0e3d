// What `npm install` and `npm start` do on a fresh clone: the lock file records the engines of
// package.json (so that npm does not rewrite it) and every locked package supports the oldest
// Node versions package.json allows (so that npm warns EBADENGINE about none); `npm start`
// builds a part (server, dashboard) only when one of its sources changed since its last build.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGETS, isStale, writeStamp, type BuildTarget } from '../../scripts/build.mjs';
import { tempDir } from '../helpers/herald.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// semver is npm's and fastify's; its types are not installed.
const semver = createRequire(import.meta.url)('semver') as {
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string } | null;
};

type LockEntry = { version?: string; optional?: boolean; os?: string[]; cpu?: string[]; engines?: { node?: string }; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };

/**
 * The paths of the locked packages npm installs on this machine: optional ones only for their
 * platform (e.g. wasm32 bindings are not), and only when a package installed here needs them.
 */
function installedHere(packages: Record<string, LockEntry>): Set<string> {
  const fits = (allowed: string[] | undefined, value: string) =>
    !allowed || allowed.includes(value) || (allowed.every((a) => a.startsWith('!')) && !allowed.includes(`!${value}`));
  const installed = new Set(Object.keys(packages).filter((path) => !packages[path]!.optional));
  for (let grew = true; grew; ) {
    grew = false;
    const needed = new Set([...installed].flatMap((path) => Object.keys({ ...packages[path]!.dependencies, ...packages[path]!.optionalDependencies })));
    for (const [path, entry] of Object.entries(packages)) {
      if (installed.has(path) || !fits(entry.os, process.platform) || !fits(entry.cpu, process.arch)) continue;
      if (needed.has(path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length))) {
        installed.add(path);
        grew = true;
      }
    }
  }
  return installed;
}

const readJson = async (file: string) => JSON.parse(await readFile(join(ROOT, file), 'utf8'));

describe('npm install on the oldest Node versions allowed', () => {
  it('the lock file records the engines of package.json, and every locked package supports them', async () => {
    const pkg = await readJson('package.json');
    const lock = await readJson('package-lock.json');
    assert.deepEqual(lock.packages[''].engines, pkg.engines, 'npm install would rewrite the lock file');
    // The oldest version of each range of engines.node: 20.19.0 and 22.12.0.
    const oldest = (pkg.engines.node as string).split('||').map((range) => semver.minVersion(range)!.version);
    assert.ok(oldest.includes('20.19.0'), oldest.join(', '));
    const unsupported: string[] = [];
    const installed = installedHere(lock.packages);
    assert.ok(installed.has('node_modules/fastify') && !installed.has('node_modules/@rolldown/binding-wasm32-wasi'));
    for (const [path, entry] of Object.entries<LockEntry>(lock.packages)) {
      const wanted = entry.engines?.node;
      if (path === '' || typeof wanted !== 'string' || !installed.has(path)) continue;
      for (const version of oldest) if (!semver.satisfies(version, wanted)) unsupported.push(`${path}@${entry.version} needs Node ${wanted}, not ${version}`);
    }
    assert.deepEqual(unsupported, []);
  });

  it('the overrides stay inside what their dependents were tested with', async () => {
    const lock = await readJson('package-lock.json');
    // light-my-request 6.6.0 is inside fastify's range, and brings cookie 1 (Node 18+).
    const fastify = lock.packages['node_modules/fastify'];
    assert.ok(semver.satisfies(lock.packages['node_modules/fastify/node_modules/light-my-request'].version, fastify.dependencies['light-my-request']));
    // content-disposition 2.0.1 is outside @fastify/static's ^3 (3 is 2 as an ES module, for Node 22): its create(), the one function it calls, answers the same.
    const { create } = createRequire(join(ROOT, 'node_modules/@fastify/static/index.js'))('content-disposition') as { create(name: string): string };
    assert.equal(create('Rapport annuel – 2026.pdf'), `attachment; filename="Rapport annuel ? 2026.pdf"; filename*=UTF-8''Rapport%20annuel%20%E2%80%93%202026.pdf`);
  });
});

describe('npm start builds only what changed', () => {
  let root: string | null = null;
  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  /** A file at an exact time, so that the test does not depend on the clock's resolution. */
  async function put(path: string, atSeconds: number, text = 'x'): Promise<void> {
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, text);
    await utimes(path, atSeconds, atSeconds);
    await utimes(join(path, '..'), atSeconds, atSeconds);
  }

  it('a part is stale without a stamp, or with a file or directory newer than its stamp; a part built meanwhile is not', async () => {
    root = await tempDir();
    const [server, dashboard] = TARGETS as [BuildTarget, BuildTarget];
    assert.equal(server.script, 'build:server');
    assert.equal(dashboard.script, 'build:dashboard');
    const t = 1_800_000_000;
    for (const file of ['src/cli/main.ts', 'tsconfig.json', 'package.json', 'package-lock.json', 'dashboard/src/App.tsx', 'dashboard/index.html']) await put(join(root, file), t);
    await mkdir(join(root, 'dist'), { recursive: true });
    await mkdir(join(root, 'dashboard/dist'), { recursive: true });
    assert.equal(isStale(root, server), true, 'never built');
    writeStamp(root, server, (t + 10) * 1000);
    writeStamp(root, dashboard, (t + 10) * 1000);
    assert.equal(isStale(root, server), false);
    assert.equal(isStale(root, dashboard), false);

    // The dashboard's own output is not one of its sources.
    await put(join(root, 'dashboard/dist/assets/index.js'), t + 20);
    assert.equal(isStale(root, dashboard), false);

    // A source saved after the build started: that part only.
    await put(join(root, 'src/cli/main.ts'), t + 20);
    assert.equal(isStale(root, server), true);
    assert.equal(isStale(root, dashboard), false);
    writeStamp(root, server, (t + 30) * 1000);
    assert.equal(isStale(root, server), false);

    // A deleted file changes its directory.
    await rm(join(root, 'dashboard/src/App.tsx'));
    await utimes(join(root, 'dashboard/src'), t + 40, t + 40);
    assert.equal(isStale(root, dashboard), true);

    // package.json (dependencies) is a source of both.
    writeStamp(root, dashboard, (t + 50) * 1000);
    await put(join(root, 'package.json'), t + 60);
    assert.equal(isStale(root, server), true);
    assert.equal(isStale(root, dashboard), true);
  });

  it('npm start builds with --if-changed, then serves; npm run build builds both', async () => {
    const { scripts } = await readJson('package.json');
    assert.equal(scripts.start, 'node scripts/build.mjs --if-changed && node dist/cli/main.js serve');
    assert.equal(scripts.build, 'node scripts/build.mjs');
    assert.equal(scripts.prepare, 'npm run build');
  });
});
