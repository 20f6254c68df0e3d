import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import pg from 'pg';
import { isDatabaseUnavailable } from '../../src/store/unavailable.js';

/** A server error as pg-protocol builds it from the wire (pg.DatabaseError, with its fields set). */
function serverError(code: string, message: string, severity = 'ERROR'): pg.DatabaseError {
  const err = new pg.DatabaseError(message, message.length, 'error');
  err.code = code;
  err.severity = severity;
  return err;
}

function systemError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code, errno: -1, syscall: 'read' });
}

describe('isDatabaseUnavailable', () => {
  it('is true for a server that is shutting down, starting up, gone or out of resources', () => {
    for (const [code, message, severity] of [
      ['57P01', 'terminating connection due to administrator command', 'FATAL'],
      ['57P02', 'terminating connection because of crash of another server process', 'FATAL'],
      ['57P03', 'the database system is shutting down', 'FATAL'],
      ['57P03', 'the database system is starting up', 'FATAL'],
      ['08006', 'connection failure', 'FATAL'],
      ['08001', 'could not connect', 'ERROR'],
      ['53300', 'sorry, too many clients already', 'FATAL'],
      ['53100', 'could not extend file: No space left on device', 'ERROR'],
      ['58030', 'could not write to file', 'ERROR'],
      // A database that refuses connections (ALTER DATABASE … ALLOW_CONNECTIONS false).
      ['55000', 'database "herald" is not currently accepting connections', 'FATAL'],
      ['3D000', 'database "herald" does not exist', 'FATAL'],
    ] as const) {
      assert.equal(isDatabaseUnavailable(serverError(code, message, severity)), true, `${code} ${message}`);
    }
  });

  it('is true for broken or refused connections and for pg messages without a code', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']) {
      assert.equal(isDatabaseUnavailable(systemError(code, `${code} 127.0.0.1:5432`)), true, code);
    }
    for (const message of [
      'Connection terminated unexpectedly',
      'Connection terminated due to connection timeout',
      'Connection terminated',
      'timeout exceeded when trying to connect',
      'Client has encountered a connection error and is not queryable',
      'Client was closed and is not queryable',
    ]) {
      assert.equal(isDatabaseUnavailable(new Error(message)), true, message);
    }
    // Node's net, trying ::1 and 127.0.0.1 in turn, refuses with an AggregateError.
    const both = Object.assign(new AggregateError([systemError('ECONNREFUSED', '::1'), systemError('ECONNREFUSED', '127.0.0.1')]), { code: 'ECONNREFUSED' });
    assert.equal(isDatabaseUnavailable(both), true);
    assert.equal(isDatabaseUnavailable(new Error('publish failed', { cause: serverError('57P01', 'terminating', 'FATAL') })), true);
    for (const code of ['SQLITE_BUSY', 'SQLITE_FULL', 'SQLITE_IOERR_WRITE', 'SQLITE_READONLY']) {
      assert.equal(isDatabaseUnavailable(Object.assign(new Error(code), { code })), true, code);
    }
  });

  it('is false for errors of the request or of Herald', () => {
    for (const [code, message] of [
      ['23505', 'duplicate key value violates unique constraint'],
      ['22021', 'invalid byte sequence for encoding "UTF8": 0x00'],
      ['42P01', 'relation "deliveries" does not exist'],
      ['40001', 'could not serialize access'],
      ['57014', 'canceling statement due to statement timeout'],
    ] as const) {
      assert.equal(isDatabaseUnavailable(serverError(code, message)), false, `${code} ${message}`);
    }
    for (const err of [
      new Error('internal'),
      new TypeError("Cannot read properties of undefined (reading 'id')"),
      Object.assign(new Error('constraint'), { code: 'SQLITE_CONSTRAINT_UNIQUE' }),
      Object.assign(new Error('busy'), { code: 'EBUSY' }),
      // A message like pg's, but on an error that has a code of its own.
      Object.assign(new Error('Connection terminated by the receiver'), { code: 'UND_ERR_SOCKET' }),
      null,
      undefined,
      'ECONNRESET',
    ]) {
      assert.equal(isDatabaseUnavailable(err), false, String(err));
    }
  });

  it('is true for what pg really throws when nothing listens on the port', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'x', database: 'x', connectionTimeoutMillis: 2000 });
    const err = await client.connect().then(() => null, (e: unknown) => e);
    assert.ok(err, 'the connection was refused');
    assert.equal(isDatabaseUnavailable(err), true, String(err));
  });
});
