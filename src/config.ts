// Typed configuration: defaults, environment variables and flags, in one place.
// Every setting is HERALD_<NAME> in the environment and --<name> (kebab case) as a flag;
// a flag overrides the variable.

export type Role = 'all' | 'api' | 'worker';

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  /** PostgreSQL connections per process (the LISTEN connection of a worker is one more). */
  databasePoolSize: number;
  /** PostgreSQL schema for Herald's tables; unset means the server's default search_path. */
  databaseSchema: string | undefined;
  role: Role;
  adminKey: string | undefined;
  allowPrivateTargets: boolean;
  deliveryTimeoutMs: number;
  maxRetries: number;
  retryBaseMs: number;
  retryFactor: number;
  maxPayloadBytes: number;
  encryptionKey: string | undefined;
  headerPrefix: string;
  /** The address users reach Herald at, without a trailing slash; unset: http://{host}:{port} (the port listened on). */
  publicUrl: string | undefined;
  /** Origins that may frame the portal (CSP frame-ancestors); empty: none. */
  frameAncestors: string[];
  /** Attempts in flight at once in this process. */
  workerConcurrency: number;
  /** Deliver from a thread of its own (beside the API's), rather than on the main thread. */
  deliveryThread: boolean;
  /** How long a claimed delivery stays with its worker before others may take it back. */
  leaseMs: number;
  /** Most attempts in flight for one webhook (each starts lower and earns more with fast answers). */
  webhookConcurrency: number;
  /** Failures in a row that open a webhook's circuit. */
  circuitThreshold: number;
  /** How long an opened circuit waits first; each reopening doubles it (up to 10 minutes). */
  circuitCooldownMs: number;
  /** A webhook whose every attempt has failed this long is disabled. */
  disableAfterMs: number;
  /** Events and attempts older than this many days are purged. */
  retentionDays: number;
  /** Incoming connections held open at once; more are refused. */
  maxConnections: number;
  /** `http://host:port` of the HTTP proxy every delivery goes through; unset: direct. */
  egressProxy: string | undefined;
  logLevel: string;
}

interface Setting {
  key: keyof Config;
  env: string;
  parse: (raw: string, name: string) => unknown;
  default: unknown;
  help: string;
}

export class ConfigError extends Error {}

const text = (raw: string) => raw;
const optionalText = (raw: string) => (raw === '' ? undefined : raw);

function integer(min: number, max: number) {
  return (raw: string, name: string) => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
    }
    return n;
  };
}

function number(min: number, max: number) {
  return (raw: string, name: string) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new ConfigError(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
    }
    return n;
  };
}

function boolean(raw: string, name: string) {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function databaseUrl(raw: string, name: string) {
  if (raw === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(raw)) throw new ConfigError(`${name} must start with postgres:// or postgresql://`);
  return raw;
}

function schemaName(raw: string, name: string) {
  if (raw === '') return undefined;
  if (!/^[a-z_][a-z0-9_]{0,39}$/.test(raw)) {
    throw new ConfigError(`${name} must be 1 to 40 lowercase letters, digits or underscores, not starting with a digit, got "${raw}"`);
  }
  return raw;
}

function role(raw: string, name: string): Role {
  if (raw === 'all' || raw === 'api' || raw === 'worker') return raw;
  throw new ConfigError(`${name} must be all, api or worker, got "${raw}"`);
}

function headerPrefix(raw: string, name: string) {
  if (!/^[A-Za-z0-9-]{1,32}$/.test(raw)) {
    throw new ConfigError(`${name} must be 1 to 32 letters, digits or dashes, got "${raw}"`);
  }
  return raw.toLowerCase();
}

function publicUrl(raw: string, name: string) {
  if (raw === '') return undefined;
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {
    // reported below
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username) {
    throw new ConfigError(`${name} must be an http:// or https:// address such as https://webhooks.example.com, got "${raw}"`);
  }
  return raw.replace(/\/+$/, '');
}

/** An origin as CSP frame-ancestors takes it: scheme, host (a leading *. allowed) and port, no path. */
const ORIGIN = /^https?:\/\/(\*\.)?([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?$/;

function origins(raw: string, name: string) {
  const list = raw.split(/\s+/).filter((o) => o !== '');
  for (const o of list) {
    if (!ORIGIN.test(o)) {
      throw new ConfigError(`${name} must be space-separated origins such as https://app.example.com (scheme, host and port, no path), got "${o}"`);
    }
  }
  return list;
}

function egressProxy(raw: string, name: string) {
  if (raw === '') return undefined;
  const refuse = () => new ConfigError(`${name} must be http://host:port (an HTTP proxy, without credentials or path), got "${raw}"`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse();
  }
  // Only a plain HTTP proxy: https:// or socks:// proxies, credentials and paths are refused
  // rather than half supported. The port is required so a typo cannot fall back to port 80.
  if (url.protocol !== 'http:' || url.username || url.password || url.pathname !== '/' || url.search || url.hash || !/:\d+\/?$/.test(raw)) {
    throw refuse();
  }
  return `http://${url.host}`;
}

export const SETTINGS: readonly Setting[] = [
  { key: 'host', env: 'HERALD_HOST', parse: text, default: '127.0.0.1', help: 'address to listen on' },
  { key: 'port', env: 'HERALD_PORT', parse: integer(0, 65535), default: 8080, help: 'port to listen on' },
  { key: 'dataDir', env: 'HERALD_DATA_DIR', parse: text, default: './data', help: 'where the SQLite database and the generated admin key live' },
  { key: 'databaseUrl', env: 'HERALD_DATABASE_URL', parse: databaseUrl, default: undefined, help: 'postgres://… selects PostgreSQL instead of SQLite' },
  { key: 'databasePoolSize', env: 'HERALD_DATABASE_POOL_SIZE', parse: integer(1, 1000), default: 10, help: 'PostgreSQL connections per process' },
  { key: 'databaseSchema', env: 'HERALD_DATABASE_SCHEMA', parse: schemaName, default: undefined, help: 'PostgreSQL schema for Herald\'s tables (created if missing)' },
  { key: 'role', env: 'HERALD_ROLE', parse: role, default: 'all', help: 'all, api (HTTP only) or worker (delivery only)' },
  { key: 'adminKey', env: 'HERALD_ADMIN_KEY', parse: optionalText, default: undefined, help: 'the admin API key (generated on first start when unset)' },
  { key: 'allowPrivateTargets', env: 'HERALD_ALLOW_PRIVATE_TARGETS', parse: boolean, default: false, help: 'let webhooks target loopback and private addresses' },
  { key: 'deliveryTimeoutMs', env: 'HERALD_DELIVERY_TIMEOUT_MS', parse: integer(100, 300_000), default: 10_000, help: 'time limit of a whole attempt' },
  { key: 'maxRetries', env: 'HERALD_MAX_RETRIES', parse: integer(0, 100), default: 5, help: 'retries after the first attempt' },
  { key: 'retryBaseMs', env: 'HERALD_RETRY_BASE_MS', parse: integer(0, 86_400_000), default: 30_000, help: 'first retry delay' },
  { key: 'retryFactor', env: 'HERALD_RETRY_FACTOR', parse: number(1, 100), default: 4, help: 'each further retry waits this many times longer' },
  { key: 'maxPayloadBytes', env: 'HERALD_MAX_PAYLOAD_BYTES', parse: integer(1024, 64 * 1024 * 1024), default: 262_144, help: 'largest accepted event body' },
  { key: 'encryptionKey', env: 'HERALD_ENCRYPTION_KEY', parse: optionalText, default: undefined, help: 'encrypt webhook secrets at rest with this key' },
  { key: 'headerPrefix', env: 'HERALD_HEADER_PREFIX', parse: headerPrefix, default: 'x-nector', help: 'prefix of the compatibility headers' },
  { key: 'publicUrl', env: 'HERALD_PUBLIC_URL', parse: publicUrl, default: undefined, help: 'the address users reach Herald at (portal links are made from it; default http://{host}:{port})' },
  { key: 'frameAncestors', env: 'HERALD_FRAME_ANCESTORS', parse: origins, default: [], help: 'space-separated origins allowed to embed the portal in an iframe' },
  { key: 'workerConcurrency', env: 'HERALD_WORKER_CONCURRENCY', parse: integer(1, 10_000), default: 256, help: 'attempts in flight at once per process' },
  { key: 'deliveryThread', env: 'HERALD_DELIVERY_THREAD', parse: boolean, default: true, help: 'deliver from a thread of its own (role all), so delivery and the API use two CPU cores' },
  { key: 'leaseMs', env: 'HERALD_LEASE_MS', parse: integer(1000, 3_600_000), default: 60_000, help: 'how long a claimed delivery belongs to its worker' },
  { key: 'webhookConcurrency', env: 'HERALD_WEBHOOK_CONCURRENCY', parse: integer(1, 10_000), default: 256, help: 'most attempts in flight for one webhook' },
  { key: 'circuitThreshold', env: 'HERALD_CIRCUIT_THRESHOLD', parse: integer(1, 1000), default: 5, help: "failures in a row that open a webhook's circuit" },
  { key: 'circuitCooldownMs', env: 'HERALD_CIRCUIT_COOLDOWN_MS', parse: integer(100, 86_400_000), default: 5_000, help: 'first wait of an opened circuit (doubles on each reopening)' },
  { key: 'disableAfterMs', env: 'HERALD_DISABLE_AFTER_MS', parse: integer(1000, 365 * 86_400_000), default: 5 * 86_400_000, help: 'disable a webhook whose every attempt has failed this long' },
  { key: 'retentionDays', env: 'HERALD_RETENTION_DAYS', parse: integer(1, 36_500), default: 30, help: 'purge events and attempts older than this' },
  { key: 'maxConnections', env: 'HERALD_MAX_CONNECTIONS', parse: integer(1, 1_000_000), default: 10_000, help: 'incoming connections held open at once' },
  { key: 'egressProxy', env: 'HERALD_EGRESS_PROXY', parse: egressProxy, default: undefined, help: 'http://host:port of an HTTP proxy that every delivery goes through' },
  { key: 'logLevel', env: 'HERALD_LOG_LEVEL', parse: text, default: 'info', help: 'pino log level' },
];

/** Flag name of a setting: HERALD_DELIVERY_TIMEOUT_MS → delivery-timeout-ms. */
export function flagName(setting: Setting): string {
  return setting.env.replace(/^HERALD_/, '').toLowerCase().replace(/_/g, '-');
}

/**
 * Builds the configuration from the environment, overridden by flags (already parsed into
 * an object keyed by flag name), overridden by explicit values (for tests and embedding).
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  flags: Record<string, string | undefined> = {},
  overrides: Partial<Config> = {},
): Config {
  const config: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const flag = flagName(setting);
    const raw = flags[flag] ?? env[setting.env];
    const source = flags[flag] !== undefined ? `--${flag}` : setting.env;
    config[setting.key] = raw === undefined ? setting.default : setting.parse(raw, source);
  }
  const result = { ...(config as unknown as Config), ...overrides };
  if (result.leaseMs <= result.deliveryTimeoutMs) {
    // A lease shorter than an attempt would let a second worker start the same delivery.
    result.leaseMs = result.deliveryTimeoutMs + 30_000;
  }
  return result;
}
