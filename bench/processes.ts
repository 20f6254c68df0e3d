// Child processes of the benchmark: Herald (node dist/cli/main.js serve) and the receiver.
// Every child is registered, so that an error, Ctrl-C or a normal end kills all of them.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { BareTraffic, BlastResult } from './bare.js';

const children = new Set<ChildProcess>();

export function killAllChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

function track(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL after graceMs. */
async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, graceMs);
  });
  await Promise.race([exited(child), killed]);
  clearTimeout(timer);
  await exited(child);
}

/** Waits for the first stdout line that matches, or fails on exit / timeout. */
function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number, what: string, onLine?: (line: string) => void): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    let done = false;
    const finish = (err: Error | null, match?: RegExpExecArray) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(match!);
    };
    const timer = setTimeout(() => finish(new Error(`${what} did not start within ${timeoutMs} ms`)), timeoutMs);
    lines.on('line', (line) => {
      onLine?.(line);
      const m = pattern.exec(line);
      if (m) finish(null, m);
    });
    child.once('exit', (code, signal) => finish(new Error(`${what} exited (code ${code}, signal ${signal}) before it was ready`)));
  });
}

// ---- the receiver --------------------------------------------------------------------------

export interface ReceiverProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** A bench/ script in a child process, its stdin a pipe (its end tells the child that we died). */
function spawnScript(benchDir: string, file: string): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(benchDir, file)], {
    cwd: join(benchDir, '..'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  track(child);
  return child;
}

export async function startReceiver(benchDir: string): Promise<ReceiverProcess> {
  const child = spawnScript(benchDir, 'receiver.ts');
  const m = await waitForLine(child, /^\{"port":(\d+)/, 30_000, 'the receiver');
  return {
    url: `http://127.0.0.1:${m[1]}`,
    pid: child.pid!,
    stop: () => stopChild(child, 2000),
  };
}

// ---- the bare client -----------------------------------------------------------------------

export interface BareProcess {
  pid: number;
  /** Runs one blast in the child (bench/bare.ts) and resolves with its result. */
  blast(traffic: BareTraffic): Promise<BlastResult>;
  stop(): Promise<void>;
}

export async function startBare(benchDir: string): Promise<BareProcess> {
  const child = spawnScript(benchDir, 'bare.ts');
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((r: BlastResult) => void)[] = [];
  const failures: ((e: Error) => void)[] = [];
  const m = await waitForLine(child, /^\{"ready":(\d+)/, 30_000, 'the bare client');
  lines.on('line', (line) => {
    if (!line.startsWith('{"done":')) return;
    failures.shift();
    waiting.shift()?.((JSON.parse(line) as { done: BlastResult }).done);
  });
  child.once('exit', (code, signal) => {
    for (const fail of failures.splice(0)) fail(new Error(`the bare client exited (code ${code}, signal ${signal})`));
  });
  return {
    pid: Number(m[1]),
    blast: (traffic) => new Promise((resolve, reject) => {
      waiting.push(resolve);
      failures.push(reject);
      child.stdin!.write(JSON.stringify({ blast: traffic }) + '\n');
    }),
    stop: async () => {
      child.stdin!.end();
      await stopChild(child, 2000);
    },
  };
}

// ---- Herald --------------------------------------------------------------------------------

export interface HeraldOptions {
  root: string;
  dataDir: string;
  role: 'all' | 'api' | 'worker';
  adminKey: string;
  concurrency: number;
  databaseUrl?: string;
  /** Extra environment (HERALD_*) for this start. */
  env?: Record<string, string>;
  /** Passes --cpu-prof to the child; one profile per thread is written into this directory when it exits. */
  cpuProfileDir?: string;
  logFile: string;
}

export interface HeraldProcess {
  url: string;
  pid: number;
  startedAt: number;
  /** Current and peak resident set size in bytes (from /proc/<pid>/status). */
  memory(): { rss: number; peak: number } | null;
  stop(graceMs?: number): Promise<void>;
  logTail(lines?: number): string;
  /** How it ended when it ended on its own (not by stop()), else null. */
  died(): string | null;
}

export function readProcMemory(pid: number): { rss: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => {
      const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
      return m ? Number(m[1]) * 1024 : 0;
    };
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return null;
  }
}

export async function startHerald(o: HeraldOptions): Promise<HeraldProcess> {
  const args: string[] = [];
  if (o.cpuProfileDir) args.push('--cpu-prof', `--cpu-prof-dir=${o.cpuProfileDir}`);
  args.push(join(o.root, 'dist', 'cli', 'main.js'), 'serve', '--port', '0', '--host', '127.0.0.1');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HERALD_DATA_DIR: o.dataDir,
    HERALD_ROLE: o.role,
    HERALD_ADMIN_KEY: o.adminKey,
    HERALD_ALLOW_PRIVATE_TARGETS: 'true',
    HERALD_LOG_LEVEL: process.env.HERALD_LOG_LEVEL ?? 'warn',
    HERALD_WORKER_CONCURRENCY: String(o.concurrency),
    ...(o.env ?? {}),
  };
  if (o.databaseUrl) env.HERALD_DATABASE_URL = o.databaseUrl;
  else delete env.HERALD_DATABASE_URL;

  const log: WriteStream = createWriteStream(o.logFile, { flags: 'a' });
  const tail: string[] = [];
  const remember = (line: string) => {
    tail.push(line);
    if (tail.length > 200) tail.shift();
  };
  const startedAt = performance.timeOrigin + performance.now();
  const child = spawn(process.execPath, args, { cwd: o.root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  child.stderr!.on('data', (chunk: Buffer) => {
    log.write(chunk);
    for (const line of chunk.toString('utf8').split('\n')) if (line) remember(line);
  });
  child.stdout!.on('data', (chunk: Buffer) => log.write(chunk));
  child.once('exit', () => log.end());

  let stopping = false;
  let death: string | null = null;
  child.once('exit', (code, signal) => {
    if (!stopping) death = `Herald (pid ${child.pid}) exited by itself: code ${code}, signal ${signal}`;
  });
  const m = await waitForLine(child, o.role === 'worker' ? /(worker) started/ : /listening on (http:\/\/\S+)/, 60_000, `Herald (role ${o.role})`, remember).catch((err: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${err.message}\n--- Herald output ---\n${tail.slice(-30).join('\n')}`);
  });
  return {
    url: m[1]!.replace(/\/$/, ''),
    pid: child.pid!,
    startedAt,
    memory: () => readProcMemory(child.pid!),
    stop: (graceMs = 15_000) => {
      stopping = true;
      return stopChild(child, graceMs);
    },
    logTail: (n = 30) => tail.slice(-n).join('\n'),
    died: () => death,
  };
}
