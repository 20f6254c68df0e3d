// The PostgreSQL plumbing under PostgresStore: the pool (its type parsers and search_path),
// transactions, and the LISTEN connection that wakes workers when another node queues work.
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { ClientConfig, CustomTypesConfig, PoolClient } from 'pg';

export interface PostgresOptions {
  /** postgres://user:password@host:port/database?… */
  connectionString: string;
  /** Connections in the pool (HERALD_DATABASE_POOL_SIZE); the listener takes one more. */
  poolSize?: number;
  /**
   * The schema Herald's tables live in (HERALD_DATABASE_SCHEMA): set as search_path on every
   * connection and created by migrate(). Unset: the server's default search_path (public).
   */
  schema?: string;
  /** Errors that no caller is waiting for: idle connections dropping, the listener reconnecting. */
  onError?: (err: Error) => void;
}

/** Lowercase, so it needs no quoting; short, so that the NOTIFY channel named after it fits in 63 bytes. */
export const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,39}$/;

const INT8_OID = 20;

/**
 * bigint columns (times in ms, seq, count(*)) as JS numbers rather than strings: they stay
 * far below 2^53. Set on this pool's connections only, not on pg's global parsers.
 */
const types: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as CustomTypesConfig['getTypeParser'],
};

/** The settings every connection of one store shares (the pool's and the listener's). */
export function clientConfig(options: PostgresOptions): ClientConfig {
  const config: ClientConfig = {
    connectionString: options.connectionString,
    types,
    keepAlive: true,
    application_name: 'herald',
  };
  if (options.schema !== undefined) {
    if (!SCHEMA_PATTERN.test(options.schema)) {
      throw new Error(`schema name "${options.schema}" must be 1 to 40 lowercase letters, digits or underscores, not starting with a digit`);
    }
    // pg lets options in the URL override these silently; refuse the ambiguity instead.
    if (/[?&]options=/.test(options.connectionString)) {
      throw new Error('give the schema either as HERALD_DATABASE_SCHEMA or as options in the database URL, not both');
    }
    config.options = `-c search_path=${options.schema}`;
  }
  return config;
}

export function createPool(options: PostgresOptions): pg.Pool {
  const pool = new pg.Pool({ ...clientConfig(options), max: options.poolSize ?? 10 });
  // An idle connection that drops (server restart, network) must not crash the process:
  // the pool discards it and opens another on the next query.
  pool.on('error', (err) => options.onError?.(err));
  // Nor one that is checked out: the pool removes its own listener when it hands a connection
  // out, and can do so inside the socket read that also carries the server's last words (a
  // query's end, then 57P01 on a terminated backend), before the new holder could listen.
  // Every connection listens for as long as it lives; a holder finds it unusable on its next
  // query, and the pool drops it when it comes back.
  pool.on('connect', (client) => client.on('error', (err) => options.onError?.(err)));
  return pool;
}

export interface TransactionOptions {
  /**
   * Commit without waiting for the WAL to reach the disk (synchronous_commit = off), for queue
   * bookkeeping — claims, attempt results, released claims. Only a crash of the database
   * server can lose such a commit, and losing one only means some deliveries are attempted
   * again: at-least-once holds. Whatever answers a caller's request (a publish's 202) syncs.
   */
  relaxed?: boolean;
}

/** Connections whose ROLLBACK failed: the pool drops them instead of handing them out again. */
const broken = new WeakSet<PoolClient>();

/** Runs fn in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. */
export function inTransaction<T>(pool: pg.Pool, fn: (client: PoolClient) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  return withConnection(pool, (client) => transaction(client, fn, options));
}

/** Runs fn on one connection of the pool, given back afterwards (or dropped, when a transaction on it could not be rolled back). */
export async function withConnection<T>(pool: pg.Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  // (Its errors between queries go to the listener createPool gives every connection.)
  const client = await pool.connect();
  try {
    return await fn(client);
  } finally {
    client.release(broken.has(client));
  }
}

/** Runs fn in one transaction on a connection already checked out. */
export async function transaction<T>(client: PoolClient, fn: (client: PoolClient) => Promise<T>, options: Pick<TransactionOptions, 'relaxed'> = {}): Promise<T> {
  try {
    await client.query(options.relaxed ? 'BEGIN; SET LOCAL synchronous_commit = off' : 'BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => broken.add(client));
    throw err;
  }
}

/**
 * LISTEN on a connection of its own (outside the pool, which would otherwise lose a slot),
 * reconnecting with a growing pause when it drops. After every reconnection onWork is called
 * once, since notifications sent while it was away are lost.
 */
export class WorkListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;

  constructor(
    private readonly config: ClientConfig,
    private readonly channel: string,
    private readonly onWork: () => void,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Resolves once listening; rejects if the first connection fails. */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('notification', (msg) => {
      if (msg.channel === this.channel) this.safely(this.onWork);
    });
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      this.client = null;
      client.removeAllListeners('end');
      client.end().catch(() => undefined);
      if (err) this.onError(err);
      this.scheduleReconnect();
    };
    client.on('error', (err) => lost(err));
    client.on('end', () => lost(new Error('PostgreSQL LISTEN connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.failures = 0;
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    const pause = Math.min(5000, 100 * 2 ** this.failures++);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.stopped) return;
      this.connect().then(
        () => {
          // Work queued while we were away announced itself to nobody.
          if (!this.stopped) this.safely(this.onWork);
        },
        (err) => {
          this.onError(err);
          this.scheduleReconnect();
        },
      );
    }, pause);
    this.retryTimer.unref();
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.onError(err as Error);
    }
  }
}

/**
 * Keys for pg_advisory_xact_lock (64-bit, as decimal strings for a bigint[] parameter), one
 * per distinct value, in ascending order: transactions that take their locks in this order
 * cannot deadlock on them.
 */
export function advisoryKeys(space: string, values: Iterable<string>): string[] {
  const keys = new Set<bigint>();
  for (const v of values) keys.add(createHash('sha256').update(`${space}\n${v}`).digest().readBigInt64BE(0));
  return [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(String);
}
