// Starts a real Herald in-process for end-to-end tests: HTTP on 127.0.0.1 (a free port), its
// own SQLite database in a fresh temporary directory, a known admin key, short retries.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHerald, type Herald, type HeraldOptions } from '../../src/herald.js';
import { loadConfig, type Config } from '../../src/config.js';
import { startReceiver, type Receiver } from './receiver.js';

export const ADMIN_KEY = 'hrd_admin_e2e-test-admin-key-0123456789abcdef';

/** Settings every test Herald starts with; a test's overrides win. */
export const TEST_DEFAULTS: Partial<Config> = {
  host: '127.0.0.1',
  port: 0,
  adminKey: ADMIN_KEY,
  allowPrivateTargets: true,
  logLevel: process.env.HERALD_TEST_LOG ?? 'silent',
  retryBaseMs: 200,
  retryFactor: 2,
  deliveryTimeoutMs: 5_000,
};

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  /** The parsed JSON answer, the text when it is not JSON, null when empty. */
  body: T;
  text: string;
}

export interface ApiOptions {
  /** Extra request headers (e.g. Idempotency-Key, or a content-type to override). */
  headers?: Record<string, string>;
  /** Sends `body` as it is (a string) instead of JSON.stringify(body). */
  raw?: boolean;
}

/**
 * Calls Herald's API. `key` defaults to the admin key; null sends no Authorization header.
 * An object body is sent as JSON; no body sends no content-type.
 */
export type Api = <T = any>(method: string, path: string, body?: unknown, key?: string | null, options?: ApiOptions) => Promise<ApiResponse<T>>;

export interface TestHerald {
  /** http://127.0.0.1:<port> */
  url: string;
  adminKey: string;
  herald: Herald;
  dataDir: string;
  config: Config;
  api: Api;
  /**
   * Resolves once its worker has nothing due and nothing in flight: what a test awaits
   * before it asserts that nothing (more) was sent.
   */
  idle(): Promise<void>;
  /** Stops Herald (letting attempts in flight finish) and removes its data directory. */
  stop(): Promise<void>;
  /** Stops Herald gracefully, keeps the data directory, and starts a new Herald on it. */
  restart(overrides?: Partial<Config>): Promise<TestHerald>;
}

/**
 * Starts Herald in this process with TEST_DEFAULTS and `overrides`. Without `dataDir`, in a
 * fresh temporary directory; with one, on that directory (a restart), which then belongs to
 * this Herald: its stop() removes it. `options` (a logger, a store) go to createHerald.
 */
export async function startHerald(overrides: Partial<Config> = {}, dataDir?: string, options: HeraldOptions = {}): Promise<TestHerald> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'herald-e2e-')));
  const config = loadConfig({}, {}, { ...TEST_DEFAULTS, ...overrides, dataDir: dir });
  let herald: Herald;
  try {
    herald = await createHerald(config, options);
  } catch (err) {
    if (!dataDir) await rm(dir, { recursive: true, force: true });
    throw err;
  }
  let address: string | null;
  try {
    address = await herald.start();
  } catch (err) {
    await herald.stop();
    if (!dataDir) await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const url = address ?? '';
  const adminKey = config.adminKey ?? ADMIN_KEY;
  const api = makeApi(url, adminKey);

  let state: 'running' | 'stopped' | 'handed-over' = 'running';
  const self: TestHerald = {
    url, adminKey, herald, dataDir: dir, config, api,
    idle: () => herald.worker?.whenIdle() ?? Promise.resolve(),
    async stop() {
      if (state === 'running') await herald.stop();
      if (state !== 'handed-over') await rm(dir, { recursive: true, force: true });
      state = 'stopped';
    },
    async restart(more: Partial<Config> = {}) {
      if (state !== 'running') throw new Error('restart of a Herald that is not running');
      await herald.stop();
      state = 'handed-over';
      return startHerald({ ...overrides, ...more }, dir, options);
    },
  };
  return self;
}

/**
 * An in-process Herald with default test settings and one receiver, for a file whose tests
 * share them: `before(async () => ({ h, receiver } = await startHeraldAndReceiver()))` and
 * `after(() => stopHeraldAndReceiver(h, receiver))`.
 */
export async function startHeraldAndReceiver(overrides: Partial<Config> = {}): Promise<{ h: TestHerald; receiver: Receiver }> {
  return { h: await startHerald(overrides), receiver: await startReceiver() };
}

export async function stopHeraldAndReceiver(h: TestHerald | undefined, receiver: Receiver | undefined): Promise<void> {
  await h?.stop();
  await receiver?.close();
}

export function makeApi(baseUrl: string, adminKey: string): Api {
  return async (method, path, body, key = adminKey, options = {}) => {
    const headers: Record<string, string> = {};
    if (key !== null) headers.authorization = `Bearer ${key}`;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = options.raw ? String(body) : JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    Object.assign(headers, options.headers);
    const res = await fetch(baseUrl + path, { method, headers, body: payload });
    const text = await res.text();
    let parsed: unknown = null;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: res.status, headers: res.headers, body: parsed as any, text };
  };
}

// ---- fixtures ------------------------------------------------------------------------

export interface WorkspaceInput {
  id?: string;
  name?: string;
  uri?: string | null;
  /** Switches webhooks on after creating it (default true). */
  enabled?: boolean;
}

let counter = 0;
/** A name unique in this process, for ids and paths. */
export function unique(prefix = 't'): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}`;
}

export async function createWorkspace(h: TestHerald, input: WorkspaceInput = {}): Promise<any> {
  const body: Record<string, unknown> = { name: input.name ?? 'Blue Bottle Goods' };
  if (input.uri !== undefined) body.uri = input.uri;
  else body.uri = 'https://bluebottle.example';
  if (input.id !== undefined) body.id = input.id;
  const created = await h.api('POST', '/api/v1/workspaces', body);
  if (created.status !== 201) throw new Error(`creating a workspace: ${created.status} ${created.text}`);
  if (input.enabled === false) return created.body;
  const patched = await h.api('PATCH', `/api/v1/workspaces/${created.body.id}`, { webhooks_enabled: true });
  if (patched.status !== 200) throw new Error(`enabling webhooks: ${patched.status} ${patched.text}`);
  return patched.body;
}

export interface WebhookInput {
  topic?: string;
  url: string;
  secret?: string;
  prefix?: string;
  filter?: Record<string, unknown> | null;
  headers?: Record<string, string>;
  description?: string;
  enabled?: boolean;
  signing?: 'hmac' | 'ed25519';
}

export async function createWebhook(h: TestHerald, workspaceId: string, input: WebhookInput): Promise<any> {
  const res = await h.api('POST', `/api/v1/workspaces/${workspaceId}/webhooks`, { topic: 'walletreward_create', ...input });
  if (res.status !== 201) throw new Error(`creating a webhook: ${res.status} ${res.text}`);
  return res.body;
}

/** A workspace with webhooks switched on and one webhook to `url`. */
export async function setupWebhook(
  h: TestHerald,
  url: string,
  webhook: Omit<WebhookInput, 'url'> = {},
  workspace: WorkspaceInput = {},
): Promise<{ workspace: any; webhook: any; ws: string }> {
  const ws = await createWorkspace(h, workspace);
  const wh = await createWebhook(h, ws.id, { ...webhook, url });
  return { workspace: ws, webhook: wh, ws: ws.id };
}

/** Publishes one event as the admin; throws unless the answer is 202. */
export async function publish(h: TestHerald, ws: string, topic: string, data: Record<string, unknown>, id?: string): Promise<any> {
  const res = await h.api('POST', `/api/v1/workspaces/${ws}/events`, { topic, data, ...(id ? { id } : {}) });
  if (res.status !== 202) throw new Error(`publishing: ${res.status} ${res.text}`);
  return res.body;
}

export async function getDelivery(h: TestHerald, ws: string, id: string): Promise<any> {
  const res = await h.api('GET', `/api/v1/workspaces/${ws}/deliveries/${id}`);
  if (res.status !== 200) throw new Error(`reading delivery ${id}: ${res.status} ${res.text}`);
  return res.body;
}

/** All deliveries of a workspace matching the query (every page). */
export async function listDeliveries(h: TestHerald, ws: string, query: Record<string, string> = {}): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const q: URLSearchParams = new URLSearchParams({ ...query, limit: '500', ...(cursor ? { cursor } : {}) });
    const res: ApiResponse = await h.api('GET', `/api/v1/workspaces/${ws}/deliveries?${q}`);
    if (res.status !== 200) throw new Error(`listing deliveries: ${res.status} ${res.text}`);
    out.push(...res.body.data);
    cursor = res.body.next_cursor;
  } while (cursor);
  return out;
}

/** Polls until the delivery has `status` (and, optionally, a number of attempts); returns its detail. */
export async function waitForDelivery(
  h: TestHerald,
  ws: string,
  id: string,
  until: (d: any) => boolean,
  timeoutMs = 15_000,
): Promise<any> {
  let last: any = null;
  return waitUntil(async () => {
    last = await getDelivery(h, ws, id);
    return until(last) ? last : null;
  }, { timeoutMs, message: () => `delivery ${id} did not reach the expected state; last: ${JSON.stringify(last)}` });
}

/** Polls `probe` until it returns something truthy; rejects after the timeout. */
export async function waitUntil<T>(
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; message?: string | (() => string) } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  const interval = options.intervalMs ?? 50;
  for (;;) {
    const value = await probe();
    if (value) return value as T;
    if (Date.now() > deadline) {
      const m = options.message;
      throw new Error(typeof m === 'function' ? m() : m ?? 'condition not met in time');
    }
    await sleep(interval);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A new API key of a workspace; returns {id, key}. */
export async function createKey(h: TestHerald, ws: string, name = 'e2e'): Promise<{ id: string; key: string }> {
  const res = await h.api('POST', `/api/v1/workspaces/${ws}/keys`, { name });
  if (res.status !== 201) throw new Error(`creating a key: ${res.status} ${res.text}`);
  return { id: res.body.id, key: res.body.key };
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'herald-e2e-'));
}
