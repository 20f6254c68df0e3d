// Whether an error means "the database is away" (a restart, a stop, a full disk, a lost
// connection) rather than a bug: the API answers those with 503 and Retry-After, since the
// same request will succeed once the database is back, and the pool reconnects by itself.

/** SQLite result codes of a database that cannot be written or read just now. */
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|FULL|IOERR|LOCKED|CANTOPEN|READONLY)/;

/**
 * PostgreSQL SQLSTATEs of a server that is away or out of resources: class 08 (connection
 * exception), 53 (insufficient resources: disk full, out of memory, too many connections),
 * 57P01–57P05 (admin_shutdown, crash_shutdown, cannot_connect_now "the database system is
 * shutting down / starting up", database_dropped, idle_session_timeout) and 58 (system error,
 * e.g. an I/O error).
 */
const PG_UNAVAILABLE = /^(08|53|57P0[1-5]|58)/;

/** Node's socket errors when the server is not there or the connection broke. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * pg's own errors carry no code, only a message: the connection ended under a query, the
 * pool could not connect in time, a client that lost its connection was used again.
 */
const PG_MESSAGES = [
  /^Connection terminated/, // "… unexpectedly", "… due to connection timeout"
  /^timeout exceeded when trying to connect/,
  /is not queryable/, // "Client has encountered a connection error and is not queryable", "Client was closed and …"
  /^Query read timeout/,
];

/** True when `err` (or what it wraps) says the database cannot be used now, not that the request or Herald is wrong. */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    if (isUnavailable(e as ErrorShape)) return true;
    // Node's net wraps each address's refusal in an AggregateError; pg and Herald sometimes set `cause`.
    const inner = e as ErrorShape;
    if (Array.isArray(inner.errors) && inner.errors.some((x) => isDatabaseUnavailable(x))) return true;
    e = inner.cause;
  }
  return false;
}

interface ErrorShape {
  code?: unknown;
  message?: unknown;
  severity?: unknown;
  errors?: unknown[];
  cause?: unknown;
}

function isUnavailable(e: ErrorShape): boolean {
  const code = typeof e.code === 'string' ? e.code : '';
  if (SQLITE_UNAVAILABLE.test(code) || SOCKET_CODES.has(code)) return true;
  // A server error: five characters of SQLSTATE (pg's DatabaseError also has a severity).
  if (/^[0-9A-Z]{5}$/.test(code)) {
    // FATAL and PANIC end the session: whatever their SQLSTATE (a database that refuses
    // connections is 55000, a dropped role 28000…), the server cannot be used now.
    return PG_UNAVAILABLE.test(code) || e.severity === 'FATAL' || e.severity === 'PANIC';
  }
  const message = typeof e.message === 'string' ? e.message : '';
  return code === '' && PG_MESSAGES.some((m) => m.test(message));
}
