// npm run bench [-- options]: Herald's benchmark (issue 6). See bench/README.md.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Receiver } from './client.js';
import { killAllChildren, startReceiver, type ReceiverProcess } from './processes.js';
import { formatProfile, summariseProfile, type ProfileSummary } from './profile.js';
import { machine, table, type Row } from './report.js';
import { SCENARIOS, type Ctx, type Sizes } from './scenarios.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = resolve(benchDir, '..');

const HELP = `npm run bench -- [options]

  --only LIST              scenarios to run, comma separated: throughput, throughput1, fanout, latency, burst, backlog, fifo, badneighbour,
                           hanging100, hanging1000; contracts and scaleout (PostgreSQL) only when named
  --quick                  small sizes for a smoke run (5k events, 20 x 50 fan-out, 5 s latency, 5k burst + 5 s, 20k backlog, 20 s bad-neighbour window, 15 s hanging)
  --bare-sweep LIST        connection counts of the bare baseline, comma separated; the best is the baseline  [16,64,256]
  --events N               throughput, throughput1, scaleout (and bad-neighbour) events  [100000]
  --batch-size N           events per batch request                         [100]
  --publish-concurrency N  batch requests in flight                         [8]
  --fanout-webhooks N      fan-out webhooks                                 [1000]
  --fanout-events N        fan-out events                                   [200]
  --rate N                 latency scenario events per second               [1000]
  --duration S             latency scenario seconds                         [30]
  --burst N                burst: events published through the batch API before the paced run  [40000]
  --burst-rate N           burst: events per second of the paced run after it                  [500]
  --burst-seconds S        burst: seconds of the paced run (the first 2 not counted)           [20]
  --scaleout-workers LIST  scaleout: worker process counts beside the API node                 [1,2,4]
  --backlog N              backlog deliveries                               [1000000]
  --bad-events N           bad-neighbour events                             [= --events]
  --bad-window S           bad-neighbour: longest time healthy deliveries are counted  [120]
  --hang-seconds S         hanging scenarios: seconds measured              [60]
  --hang-healthy-rate N    hanging scenarios: healthy events per second     [200]
  --max-wait S             longest wait for any one phase's deliveries      [3600]
  --workers N              PostgreSQL only: an API node plus N worker processes instead of one node [0]
  --concurrency N          HERALD_WORKER_CONCURRENCY, also the baseline's   [$HERALD_WORKER_CONCURRENCY or Herald's default]
  --timeout-ms N           HERALD_DELIVERY_TIMEOUT_MS, also the baseline's  [$HERALD_DELIVERY_TIMEOUT_MS or Herald's default]
  --cpu-prof               run Herald under node --cpu-prof; profiles and their summaries go to bench/results/
  --no-build               do not rebuild dist/ when src/ is newer
  --keep-data              keep the temporary data directories and Herald logs
  --out FILE               write the JSON here instead of bench/results/<time>-<store>.json
  --herald-root DIR        benchmark the Herald checkout in DIR (its dist/) instead of this one

HERALD_DATABASE_URL=postgres://… runs Herald on PostgreSQL (use an empty, dedicated database).`;

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${raw}"`);
  return n;
}

/** A comma-separated list of positive integers. */
function counts(name: string, raw: string | undefined, fallback: number[]): number[] {
  if (raw === undefined) return fallback;
  const list = raw.split(',').map((v) => Math.round(positive(name, v.trim(), 1)));
  if (list.length === 0) throw new Error(`--${name} needs at least one number`);
  return list;
}

function parse() {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      events: { type: 'string' },
      'batch-size': { type: 'string' },
      'publish-concurrency': { type: 'string' },
      'fanout-webhooks': { type: 'string' },
      'fanout-events': { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      backlog: { type: 'string' },
      'bare-sweep': { type: 'string' },
      burst: { type: 'string' },
      'burst-rate': { type: 'string' },
      'burst-seconds': { type: 'string' },
      'scaleout-workers': { type: 'string' },
      'bad-events': { type: 'string' },
      'bad-window': { type: 'string' },
      'hang-seconds': { type: 'string' },
      'hang-healthy-rate': { type: 'string' },
      'max-wait': { type: 'string' },
      concurrency: { type: 'string' },
      workers: { type: 'string' },
      'timeout-ms': { type: 'string' },
      'cpu-prof': { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      'keep-data': { type: 'boolean', default: false },
      out: { type: 'string' },
      'herald-root': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const q = values.quick;
  const events = Math.round(positive('events', values.events, q ? 5000 : 100_000));
  const sizes: Sizes = {
    events,
    batchSize: Math.min(1000, Math.round(positive('batch-size', values['batch-size'], 100))),
    publishConcurrency: Math.round(positive('publish-concurrency', values['publish-concurrency'], 8)),
    fanoutWebhooks: Math.round(positive('fanout-webhooks', values['fanout-webhooks'], q ? 20 : 1000)),
    fanoutEvents: Math.round(positive('fanout-events', values['fanout-events'], q ? 50 : 200)),
    latencyRate: positive('rate', values.rate, 1000),
    latencySeconds: positive('duration', values.duration, q ? 5 : 30),
    backlog: Math.round(positive('backlog', values.backlog, q ? 20_000 : 1_000_000)),
    burst: Math.round(positive('burst', values.burst, q ? 5000 : 40_000)),
    burstRate: positive('burst-rate', values['burst-rate'], 500),
    burstSeconds: positive('burst-seconds', values['burst-seconds'], q ? 5 : 20),
    scaleoutWorkers: counts('scaleout-workers', values['scaleout-workers'], [1, 2, 4]),
    badEvents: Math.round(positive('bad-events', values['bad-events'], events)),
    badWindowSeconds: positive('bad-window', values['bad-window'], q ? 20 : 120),
    hangSeconds: positive('hang-seconds', values['hang-seconds'], q ? 15 : 60),
    hangHealthyRate: positive('hang-healthy-rate', values['hang-healthy-rate'], 200),
    maxWaitSeconds: positive('max-wait', values['max-wait'], 3600),
  };
  const wanted = (values.only ?? SCENARIOS.filter((s) => !s.onlyWhenAsked).map((s) => s.name).join(','))
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const w of wanted) {
    if (!SCENARIOS.some((s) => s.name === w || s.aliases.includes(w))) throw new Error(`unknown scenario "${w}" (${SCENARIOS.map((s) => s.name).join(', ')})`);
  }
  const scenarios = SCENARIOS.filter((s) => wanted.includes(s.name) || s.aliases.some((a) => wanted.includes(a)));
  return {
    help: values.help,
    sizes,
    scenarios,
    quick: q,
    concurrency: values.concurrency === undefined ? undefined : Math.round(positive('concurrency', values.concurrency, 1)),
    workers: values.workers === undefined ? 0 : Math.round(positive('workers', values.workers, 0)),
    timeoutMs: values['timeout-ms'] === undefined ? undefined : Math.round(positive('timeout-ms', values['timeout-ms'], 1)),
    bareSweep: counts('bare-sweep', values['bare-sweep'], [16, 64, 256]),
    cpuProf: values['cpu-prof'],
    build: !values['no-build'],
    keepData: values['keep-data'],
    out: values.out,
    heraldRoot: values['herald-root'] ? resolve(values['herald-root']) : root,
  };
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(path) : st.mtimeMs);
  }
  return newest;
}

/**
 * Rebuilds dist/ when a file of src/ (or migrations/) is newer than it. src/ may be in the
 * middle of an edit: a failed build is tried again a few times before going on with a warning.
 */
async function ensureBuilt(root: string, log: (s: string) => void): Promise<void> {
  const main = join(root, 'dist', 'cli', 'main.js');
  const built = existsSync(main) ? statSync(main).mtimeMs : 0;
  const sources = Math.max(newestMtime(join(root, 'src')), existsSync(join(root, 'migrations')) ? newestMtime(join(root, 'migrations')) : 0);
  if (built >= sources) return;
  for (let attempt = 1; attempt <= 3; attempt++) {
    log(`dist/ is older than src/: building (tsc -p tsconfig.json)${attempt > 1 ? `, attempt ${attempt}` : ''}`);
    try {
      execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
      return;
    } catch {
      if (attempt < 3) {
        log('the build failed (src/ may be mid-edit); trying again in 20 s');
        await new Promise((r) => setTimeout(r, 20_000));
      }
    }
  }
  if (!existsSync(main)) throw new Error('the build failed and there is no dist/ to run');
  log('warning: the build reported errors; benchmarking the dist/ that it emitted');
}

/** Herald's own defaults for the settings the baseline mirrors (from the built config.js). */
async function heraldDefaults(heraldRoot: string): Promise<{ workerConcurrency: number; deliveryTimeoutMs: number }> {
  try {
    const { loadConfig } = (await import(pathToFileURL(join(heraldRoot, 'dist', 'config.js')).href)) as { loadConfig: (env: NodeJS.ProcessEnv) => { workerConcurrency: number; deliveryTimeoutMs: number } };
    const c = loadConfig(process.env);
    return { workerConcurrency: c.workerConcurrency, deliveryTimeoutMs: c.deliveryTimeoutMs };
  } catch {
    return { workerConcurrency: 128, deliveryTimeoutMs: 10_000 };
  }
}

const started = Date.now();
const log = (line: string) => {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(7);
  process.stdout.write(`${t}s ${line}\n`);
};

let tmpRoot: string | null = null;
let keepData = false;
let receiverProcess: ReceiverProcess | null = null;

function cleanup(): void {
  killAllChildren();
  if (tmpRoot && !keepData) rmSync(tmpRoot, { recursive: true, force: true });
}

process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    process.stdout.write(`\n${signal}: stopping Herald and the receiver\n`);
    cleanup();
    process.exit(130);
  });
}

async function main(): Promise<number> {
  let opts: ReturnType<typeof parse>;
  try {
    opts = parse();
  } catch (err) {
    console.error(`bench: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  keepData = opts.keepData;
  const databaseUrl = process.env.HERALD_DATABASE_URL || undefined;
  const store = databaseUrl ? 'postgres' : 'sqlite';
  if (store === 'sqlite' && opts.scenarios.some((s) => s.name === 'scaleout')) {
    console.error('bench: scaleout needs PostgreSQL (worker processes beside an API node share one database); set HERALD_DATABASE_URL=postgres://… to a dedicated database');
    return 2;
  }
  const stamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const resultsDir = join(benchDir, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const host = machine(opts.heraldRoot);
  log(`Herald benchmark: ${store} store, ${opts.scenarios.map((s) => s.name).join(', ')}${opts.quick ? ' (quick)' : ''}`);
  if (opts.build) await ensureBuilt(opts.heraldRoot, log);
  if (opts.heraldRoot !== root) log(`benchmarking the Herald in ${opts.heraldRoot}`);
  const defaults = await heraldDefaults(opts.heraldRoot);
  const concurrency = opts.concurrency ?? defaults.workerConcurrency;
  const timeoutMs = opts.timeoutMs ?? defaults.deliveryTimeoutMs;
  log(`machine: ${host.cpuModel}, ${host.cores} cores, ${host.memoryMB} MB, node ${host.node}; worker concurrency ${concurrency}, timeout ${timeoutMs} ms`);
  if (host.cores > 2) log(`note: the targets are for 2 cores; this machine has ${host.cores}`);
  const busy = loadavg()[0]!;
  if (busy > host.cores * 0.5) {
    log(`warning: the load average is ${busy.toFixed(2)} on ${host.cores} cores: other processes compete with the benchmark and its figures will be low and noisy`);
  }

  tmpRoot = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  receiverProcess = await startReceiver(benchDir);
  const receiver = new Receiver(receiverProcess.url);
  log(`receiver listening on ${receiver.url} (pid ${receiverProcess.pid})`);

  const ctx: Ctx = {
    root: opts.heraldRoot,
    runId: `b${randomBytes(3).toString('hex')}`,
    tmpRoot,
    resultsDir,
    stamp,
    store,
    databaseUrl,
    adminKey: `bench-admin-${randomBytes(16).toString('hex')}`,
    concurrency,
    workers: opts.workers,
    benchDir,
    bareSweep: opts.bareSweep,
    sweeps: [],
    timeoutMs,
    receiver,
    receiverPid: receiverProcess.pid,
    sizes: opts.sizes,
    cpuProfile: opts.cpuProf,
    keepData: opts.keepData,
    profiles: [],
    log,
  };

  const rows: Row[] = [];
  const scenarios: Record<string, unknown> = {};
  let failures = 0;
  for (const s of opts.scenarios) {
    const t = Date.now();
    const load0 = loadavg()[0]!;
    log(`--- ${s.name} --- (load average ${load0.toFixed(2)})`);
    try {
      const result = await s.run(ctx);
      rows.push(...result.rows);
      const load1 = loadavg()[0]!;
      scenarios[s.name] = {
        ...result.details,
        seconds: Math.round((Date.now() - t) / 100) / 10,
        loadAverage1m: { start: Math.round(load0 * 100) / 100, end: Math.round(load1 * 100) / 100 },
      };
    } catch (err) {
      failures++;
      const message = (err as Error).stack ?? String(err);
      log(`${s.name} failed: ${message}`);
      scenarios[s.name] = { error: message };
      killAllChildren(); // a Herald left running would skew the next scenario
      receiverProcess = await startReceiver(benchDir).catch(() => receiverProcess);
      if (receiverProcess && receiverProcess.url !== receiver.url) {
        // The receiver is started again with a new port; later scenarios use it.
        ctx.receiver = new Receiver(receiverProcess.url);
        ctx.receiverPid = receiverProcess.pid;
      }
    }
  }

  const profiles: ProfileSummary[] = [];
  for (const dir of ctx.profiles) {
    // One file per thread: the main thread (API, publishing) and the delivery thread.
    const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort() : [];
    if (files.length === 0) log(`warning: no CPU profile in ${dir} (Herald did not exit cleanly?)`);
    for (const name of files) {
      const file = join(dir, name);
      profiles.push({ ...summariseProfile(file, 15), file: relative(root, file) });
    }
  }

  console.log(`\nResults (${store}, ${host.cpuModel}, ${host.cores} cores, node ${host.node}):\n`);
  console.log(table(rows));
  const loads = Object.entries(scenarios)
    .map(([name, d]) => [name, (d as { loadAverage1m?: { start: number; end: number } }).loadAverage1m] as const)
    .filter(([, l]) => l !== undefined)
    .map(([name, l]) => `${name} ${l!.start.toFixed(1)}→${l!.end.toFixed(1)}`);
  if (ctx.sweeps.length) {
    console.log(`\nbare baseline per connection count (POSTs/s, the bare client's CPU per POST):`);
    for (const s of ctx.sweeps) console.log(`  ${s.scenario}: ${s.line}`);
  }
  if (loads.length) console.log(`\nload average (1 min) at start→end of each scenario: ${loads.join(', ')} (${host.cores} cores)`);
  for (const p of profiles) console.log('\n' + formatProfile(p));

  const out = opts.out ?? join(resultsDir, `${stamp}-${store}${opts.quick ? '-quick' : ''}.json`);
  writeFileSync(out, JSON.stringify({
    startedAt: new Date(started).toISOString(),
    seconds: Math.round((Date.now() - started) / 100) / 10,
    store,
    quick: opts.quick,
    machine: host,
    settings: { workerConcurrency: concurrency, deliveryTimeoutMs: timeoutMs, bareSweep: opts.bareSweep, workers: opts.workers, sizes: opts.sizes },
    rows,
    scenarios,
    profiles,
  }, null, 2) + '\n');
  console.log(`\nJSON: ${relative(process.cwd(), out)}`);
  if (tmpRoot && keepData) console.log(`data and Herald logs kept in ${tmpRoot}`);

  await ctx.receiver.close().catch(() => undefined);
  await receiverProcess?.stop();
  return failures > 0 ? 1 : 0;
}

main().then(
  (code) => {
    cleanup();
    process.exit(code);
  },
  (err) => {
    console.error(err instanceof Error ? err.stack : String(err));
    cleanup();
    process.exit(1);
  },
);
