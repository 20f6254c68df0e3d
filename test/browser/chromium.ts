// What the browser tests share: where Chromium is and how it is launched, where screenshots
// go, the dashboard's build, and waiting for something to hold.
//
// Without Chromium the browser tests are skipped with a message, except when CI=true: then
// they fail. HERALD_CHROMIUM overrides the browser's path (default /usr/bin/chromium).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
// Screenshots go to docs/ when HERALD_SCREENSHOTS_DIR says so (to refresh the README's
// pictures), else to a temporary folder, so that a test run leaves the tree clean.
export const DOCS = resolve(process.env.HERALD_SCREENSHOTS_DIR ?? join(tmpdir(), 'herald-screenshots'));
export const CHROMIUM = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export const haveChromium = existsSync(CHROMIUM);
export const inCi = process.env.CI === 'true';
export const skipReason = !haveChromium && !inCi
  ? `Chromium is not installed at ${CHROMIUM} (apt-get install chromium, or set HERALD_CHROMIUM); skipping the browser tests`
  : false;
if (skipReason) console.log(`# ${skipReason}`);

/** Builds the dashboard when dashboard/dist is missing or older than its sources. */
export function ensureDashboardBuilt(): void {
  const built = join(ROOT, 'dashboard', 'dist', 'index.html');
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }, 0);
  const sources = Math.max(
    newest(join(ROOT, 'dashboard', 'src')),
    newest(join(ROOT, 'dashboard', 'public')),
    // The page bundles the server's pure body building from here (see dashboard/src/workspaces/context.ts).
    newest(join(ROOT, 'src', 'domain')),
    statSync(join(ROOT, 'dashboard', 'index.html')).mtimeMs,
    statSync(join(ROOT, 'dashboard', 'vite.config.ts')).mtimeMs,
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  const run = spawnSync('npm', ['run', 'build:dashboard', '--silent'], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`npm run build:dashboard failed:\n${run.stdout}\n${run.stderr}`);
}

/** `fn`'s value once it stops throwing; throws its last error after `timeoutMs`. */
export async function eventually<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${last instanceof Error ? last.message : String(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

