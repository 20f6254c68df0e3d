#!/usr/bin/env node
// Builds the server (src/ → dist/, tsc) and the dashboard (dashboard/ → dashboard/dist/, vite).
// `npm run build` builds both; `npm start` runs this with --if-changed, which builds only a
// part whose sources (files or directories, so that a deleted file counts) changed since its
// last successful build, so that a start with nothing changed does not spend seconds building.
// Each build leaves a stamp file whose time is the build's start: a source saved during a
// build is newer than the stamp, and the next start builds again.
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** What each part is built from, where its stamp is, and the npm script that builds it. */
export const TARGETS = [
  { name: 'server', inputs: ['src', 'tsconfig.json', 'package.json', 'package-lock.json'], skip: [], stamp: 'dist/.build-stamp', script: 'build:server' },
  { name: 'dashboard', inputs: ['dashboard', 'src/domain/payload.ts', 'package.json', 'package-lock.json'], skip: ['dashboard/dist'], stamp: 'dashboard/dist/.build-stamp', script: 'build:dashboard' },
];

/** The newest modification time (ms) among the target's inputs, directories included. */
export function newestInput(root, target) {
  const skip = new Set(target.skip.map((p) => join(root, p)));
  let newest = 0;
  const visit = (path) => {
    if (skip.has(path) || !existsSync(path)) return;
    const st = statSync(path);
    newest = Math.max(newest, st.mtimeMs);
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
  };
  for (const input of target.inputs) visit(join(root, input));
  return newest;
}

/** Whether a target has no stamp, or an input newer than its stamp. */
export function isStale(root, target) {
  const stamp = join(root, target.stamp);
  return !existsSync(stamp) || newestInput(root, target) > statSync(stamp).mtimeMs;
}

/** Records a successful build that started at `startedMs`. */
export function writeStamp(root, target, startedMs) {
  const stamp = join(root, target.stamp);
  writeFileSync(stamp, `${relative(root, join(stamp, '..'))}/ was built (by scripts/build.mjs) from the sources as they were at this file's modification time\n`);
  utimesSync(stamp, startedMs / 1000, startedMs / 1000);
}

function runScript(root, script) {
  // Under npm, npm_execpath is npm's own script: run it with this node, without a shell.
  const npm = process.env.npm_execpath;
  const [command, args] = npm ? [process.execPath, [npm, 'run', '--silent', script]] : ['npm', ['run', '--silent', script]];
  return spawnSync(command, args, { cwd: root, stdio: 'inherit', shell: !npm && process.platform === 'win32' }).status === 0;
}

function main() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const ifChanged = process.argv.includes('--if-changed');
  for (const target of TARGETS) {
    if (ifChanged && !isStale(root, target)) continue;
    if (ifChanged) console.log(`building the ${target.name}: its sources changed since the last build`);
    const started = Date.now();
    if (!runScript(root, target.script)) {
      console.error(`the ${target.name} build failed`);
      process.exit(1);
    }
    writeStamp(root, target, started);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
