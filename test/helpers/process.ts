// Herald as a separate process — the real CLI, `herald serve` from src/ through tsx — for
// crash, signal, restart and multi-node tests: one helper for every suite.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADMIN_KEY, makeApi, type Api } from './herald.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface SpawnOptions {
  dataDir: string;
  /** Default 0 (a free port, read from what it prints). Pass the old port on a restart so URLs stay valid. */
  port?: number | null;
  /** Default ADMIN_KEY. */
  adminKey?: string;
  /** HERALD_* variables of this process; they win over the defaults (log level warn, private targets allowed). */
  env?: Record<string, string>;
  /** Default 90 s (a loaded machine is slow to start tsx). */
  readyTimeoutMs?: number;
}

export interface HeraldProcess {
  /** http://127.0.0.1:<port>, or null for a node without an API (HERALD_ROLE=worker). */
  url: string | null;
  port: number | null;
  adminKey: string;
  child: ChildProcess;
  /** The API of this process (throws for a worker node). */
  api: Api;
  /** Everything it printed (stdout and stderr) so far; the last 32 MiB or more of it. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once it has ended. */
  exited: Promise<number | string>;
  /** Sends `signal` and waits for the exit, with SIGKILL after `graceMs` if it lingers. */
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
  /** A clean stop: SIGTERM (attempts in flight finish), SIGKILL after 15 s. */
  stop(): Promise<number | string>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/**
 * Collects what a child process prints (stdout and stderr, bounded: a debug log of a long run
 * must not eat the test's memory) and its exit; the child is killed if this process exits first.
 * For spawned Heralds and for any other CLI command a test runs.
 */
export function watchChild(child: ChildProcess): { output: () => string; exited: Promise<number | string> } {
  children.add(child);
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.length > 64 * 1024 * 1024) out = out.slice(-32 * 1024 * 1024);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  return { output: () => out, exited };
}

/**
 * Starts `herald serve` on `dataDir`; resolves once it listens (or, with HERALD_ROLE=worker,
 * once its worker started). The process gets this one's environment without its HERALD_*
 * variables, so only what the test says configures it.
 */
export async function spawnHerald(options: SpawnOptions): Promise<HeraldProcess> {
  const adminKey = options.adminKey ?? ADMIN_KEY;
  // Nor the test runner's marker: the process is a Herald, not a test file.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HERALD_') && k !== 'NODE_TEST_CONTEXT'));
  const env: Record<string, string | undefined> = {
    ...inherited,
    HERALD_HOST: '127.0.0.1',
    HERALD_PORT: String(options.port ?? 0),
    HERALD_DATA_DIR: options.dataDir,
    HERALD_ADMIN_KEY: adminKey,
    HERALD_ALLOW_PRIVATE_TARGETS: 'true',
    HERALD_LOG_LEVEL: 'warn',
    ...options.env,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const { output, exited } = watchChild(child);
  const running = () => child.exitCode === null && child.signalCode === null;
  const kill = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000) => {
    if (running()) child.kill(signal);
    const timer = setTimeout(() => running() && child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };

  const worker = env.HERALD_ROLE === 'worker';
  const timeoutMs = options.readyTimeoutMs ?? 90_000;
  let url: string | null = null;
  try {
    url = await new Promise<string | null>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`herald serve did not start in ${timeoutMs} ms:\n${output()}`)), timeoutMs);
      const check = () => {
        const listening = /listening on (http:\/\/\S+)/.exec(output());
        if (!listening && !(worker && /worker started/.test(output()))) return;
        clearTimeout(timer);
        child.stdout!.off('data', check);
        child.stderr!.off('data', check);
        resolve(listening ? listening[1]!.replace(/\/$/, '') : null);
      };
      child.stdout!.on('data', check);
      child.stderr!.on('data', check);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`herald serve exited (${code}) before it started:\n${output()}`));
      });
    });
  } catch (err) {
    await kill('SIGKILL');
    throw err;
  }
  const port = url === null ? null : Number(new URL(url).port);
  return {
    url, port, adminKey, child, exited, kill,
    get api(): Api {
      if (url === null) throw new Error('a worker node has no API');
      return makeApi(url, adminKey);
    },
    output,
    stop: () => kill('SIGTERM', 15_000),
  };
}
