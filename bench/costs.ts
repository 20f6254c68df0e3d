// Machine-independent costs (issue 16): CPU time of whole processes (user + system, all threads,
// from /proc/<pid>/stat) and bytes written — SQLite: the Herald process's write_bytes from
// /proc/<pid>/io; PostgreSQL: WAL bytes, pg_current_wal_lsn() before and after. Read over a
// window (first publish to last receipt), so that start-up is not counted.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Row } from './report.js';

let ticksPerSecond: number | null = null;

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (getconf CLK_TCK, 100 nearly always). */
export function clockTicks(): number {
  if (ticksPerSecond === null) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU seconds (user + system, every thread) a process has used so far, or null when it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks(); // fields 14 and 15: utime, stime
  } catch {
    return null;
  }
}

/** write_bytes (what reached, or will reach, the block layer) and wchar (bytes passed to write()) from /proc/<pid>/io. */
export function ioBytes(pid: number): { writeBytes: number; wchar: number } | null {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(io)?.[1] ?? NaN);
    return { writeBytes: field('write_bytes'), wchar: field('wchar') };
  } catch {
    return null;
  }
}

export interface Costs {
  /** Items the window covered (deliveries, or POSTs for the bare client). */
  items: number;
  seconds: number;
  cpuSeconds: number | null;
  cpuPerItemUs: number | null;
  /** Bytes written per item, from `bytesSource`. */
  bytesPerItem: number | null;
  bytesSource: 'write_bytes' | 'wchar' | 'wal' | 'wal of this database' | null;
  writeBytes: number | null;
  wchar: number | null;
  /** PostgreSQL: the server's WAL in the window (pg_wal_lsn_diff), every database's. */
  walBytes: number | null;
  /** PostgreSQL: the WAL records of this database (pg_walinspect), and the full-page images among them. */
  databaseWalBytes: number | null;
  databaseFpiBytes: number | null;
  /** Why the database's own WAL could not be read (then bytesPerItem is the server's). */
  databaseWalError: string | null;
  /** PostgreSQL: transactions other databases of the server committed in the window (their WAL is in walBytes too). */
  otherDatabaseTransactions: number | null;
  /**
   * PostgreSQL: checkpoints that ended in the window. After each one, the first change to a
   * page writes the whole 8 kB page into the WAL, so WAL bytes per delivery depend on where
   * checkpoints fall as well as on what Herald writes.
   */
  checkpoints: number | null;
  processes: number;
}

interface Snapshot {
  at: number;
  cpu: number | null;
  io: { writeBytes: number; wchar: number } | null;
  wal: { lsn: string; others: number; checkpoints: number } | null;
}

type PgClient = { query: (sql: string) => Promise<{ rows: Record<string, unknown>[] }>; end: () => Promise<void> };

async function pgClient(databaseUrl: string): Promise<PgClient> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  return client as unknown as PgClient;
}

async function walPoint(client: PgClient): Promise<{ lsn: string; others: number; checkpoints: number }> {
  const { rows } = await client.query(
    `SELECT pg_current_wal_lsn()::text AS lsn,
            (SELECT coalesce(sum(xact_commit + xact_rollback), 0) FROM pg_stat_database WHERE datname IS DISTINCT FROM current_database())::bigint AS others,
            (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter)::bigint AS checkpoints`,
  );
  return { lsn: String(rows[0]!.lsn), others: Number(rows[0]!.others), checkpoints: Number(rows[0]!.checkpoints) };
}

/**
 * WAL of this database alone between two LSNs, from pg_walinspect (PostgreSQL 15+, created in
 * the benchmark's database when the server has it): the records that touch a relation of this
 * database, plus the other records (commits) of the transactions that wrote them. Null when the
 * extension is missing or the WAL of the window has been recycled already (a long run).
 */
async function databaseWal(client: PgClient, from: string, to: string): Promise<{ bytes: number; fpiBytes: number } | string> {
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_walinspect');
    await client.query(`SET statement_timeout = '120s'`);
    // pg_walinspect reads only flushed WAL: wait for the WAL writer (it flushes every 200 ms).
    for (let i = 0; i < 50; i++) {
      const { rows } = await client.query(`SELECT pg_current_wal_flush_lsn() >= '${to}'::pg_lsn AS flushed`);
      if (rows[0]!.flushed) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const { rows } = await client.query(
      `WITH db AS (SELECT '% rel %/' || oid || '/%' AS pattern FROM pg_database WHERE datname = current_database()),
            r AS MATERIALIZED (SELECT xid::text AS xid, record_length, fpi_length, block_ref FROM pg_get_wal_records_info('${from}', '${to}')),
            mine AS (SELECT DISTINCT xid FROM r, db WHERE block_ref LIKE db.pattern AND xid <> '0')
       SELECT coalesce(sum(record_length), 0)::bigint AS bytes, coalesce(sum(fpi_length), 0)::bigint AS fpi
         FROM r, db WHERE block_ref LIKE db.pattern OR xid IN (SELECT xid FROM mine)`,
    );
    return { bytes: Number(rows[0]!.bytes), fpiBytes: Number(rows[0]!.fpi) };
  } catch (err) {
    return (err as Error).message;
  }
}

function sum<T>(pids: number[], read: (pid: number) => T | null, add: (a: T, b: T) => T): T | null {
  let total: T | null = null;
  for (const pid of pids) {
    const v = read(pid);
    if (v === null) return null;
    total = total === null ? v : add(total, v);
  }
  return total;
}

const addIo = (a: { writeBytes: number; wchar: number }, b: { writeBytes: number; wchar: number }) => ({ writeBytes: a.writeBytes + b.writeBytes, wchar: a.wchar + b.wchar });

/**
 * Starts measuring the processes `pids` (summed) and, with a database URL, the server's WAL.
 * `finish(items)` reads again and divides by the items the window covered.
 */
export async function meter(pids: number[], databaseUrl?: string): Promise<{ finish: (items: number) => Promise<Costs> }> {
  const client = databaseUrl ? await pgClient(databaseUrl) : null;
  const snap = async (): Promise<Snapshot> => ({
    at: performance.now(),
    cpu: sum(pids, cpuSeconds, (a, b) => a + b),
    io: sum(pids, ioBytes, addIo),
    wal: client ? await walPoint(client) : null,
  });
  const before = await snap();
  return {
    finish: async (items) => {
      const after = await snap();
      let walBytes: number | null = null;
      let ownWal: { bytes: number; fpiBytes: number } | null = null;
      let databaseWalError: string | null = null;
      if (client && before.wal && after.wal) {
        const { rows } = await client.query(`SELECT pg_wal_lsn_diff('${after.wal.lsn}', '${before.wal.lsn}')::bigint AS bytes`);
        walBytes = Number(rows[0]!.bytes);
        const own = await databaseWal(client, before.wal.lsn, after.wal.lsn);
        if (typeof own === 'string') databaseWalError = own;
        else ownWal = own;
      }
      await client?.end().catch(() => undefined);
      const cpu = before.cpu !== null && after.cpu !== null ? after.cpu - before.cpu : null;
      const writeBytes = before.io && after.io ? after.io.writeBytes - before.io.writeBytes : null;
      const wchar = before.io && after.io ? after.io.wchar - before.io.wchar : null;
      // write_bytes is 0 where the kernel does not account block I/O to processes (some
      // containers): then wchar, which counts every write() including ones to sockets and pipes.
      const [bytes, source]: [number | null, Costs['bytesSource']] = ownWal !== null
        ? [ownWal.bytes, 'wal of this database']
        : walBytes !== null
        ? [walBytes, 'wal']
        : writeBytes !== null && writeBytes > 0 ? [writeBytes, 'write_bytes'] : wchar !== null ? [wchar, 'wchar'] : [null, null];
      const per = (v: number | null, scale: number) => (v === null || items <= 0 ? null : Math.round((v * scale * 10) / items) / 10);
      return {
        items,
        seconds: Math.round(after.at - before.at) / 1000,
        cpuSeconds: cpu === null ? null : Math.round(cpu * 100) / 100,
        cpuPerItemUs: per(cpu, 1e6),
        bytesPerItem: per(bytes, 1),
        bytesSource: source,
        writeBytes,
        wchar,
        walBytes,
        databaseWalBytes: ownWal?.bytes ?? null,
        databaseFpiBytes: ownWal?.fpiBytes ?? null,
        databaseWalError,
        otherDatabaseTransactions: before.wal && after.wal ? after.wal.others - before.wal.others : null,
        checkpoints: before.wal && after.wal ? after.wal.checkpoints - before.wal.checkpoints : null,
        processes: pids.length,
      };
    },
  };
}

/**
 * The two cost rows of a scenario: CPU per delivery (beside the bare client's per POST) and
 * bytes written per delivery. The CPU target (≤ 3× the bare client's, issue 16) is for the
 * layouts whose bare run sends the same traffic flat out (`cpuTarget`); where the rate is
 * paced or requests hang, fixed costs and waiting make the quotient a different figure.
 */
export function costRows(scenario: string, herald: Costs, bareCpuPerPostUs: number | null, store: 'sqlite' | 'postgres', cpuTarget = true): Row[] {
  const cpuRatio = herald.cpuPerItemUs !== null && bareCpuPerPostUs ? herald.cpuPerItemUs / bareCpuPerPostUs : null;
  const bytesLabel = herald.bytesSource?.startsWith('wal') ? 'WAL bytes/delivery' : herald.bytesSource === 'wchar' ? 'bytes written/delivery (wchar)' : 'bytes written/delivery';
  return [
    {
      scenario, measure: bareCpuPerPostUs === null ? 'CPU/delivery' : 'CPU/delivery (bare: /POST)', unit: 'µs', herald: herald.cpuPerItemUs, baseline: bareCpuPerPostUs, ratio: cpuRatio, ratioAs: 'times',
      target: bareCpuPerPostUs === null || !cpuTarget ? '(none)' : '≤ 3× bare', pass: cpuRatio === null || !cpuTarget ? null : cpuRatio <= 3,
    },
    {
      scenario, measure: bytesLabel, unit: 'B', herald: herald.bytesPerItem, baseline: null, ratio: null,
      target: store === 'postgres' ? '≤ 1,500 B' : '(none)', pass: store === 'postgres' && herald.bytesPerItem !== null ? herald.bytesPerItem <= 1500 : null,
    },
  ];
}

export function describeCosts(c: Costs, what = 'delivery'): string {
  const bytes = c.bytesPerItem === null ? 'n/a' : `${Math.round(c.bytesPerItem).toLocaleString('en-US')} B (${c.bytesSource})`;
  return `CPU ${c.cpuPerItemUs ?? 'n/a'} µs/${what} (${c.processes} process${c.processes === 1 ? '' : 'es'}), written ${bytes}/${what}` +
    (c.checkpoints ? `; ${c.checkpoints} checkpoint${c.checkpoints === 1 ? '' : 's'} in the window (full-page images follow each)` : '') +
    (c.databaseWalBytes !== null && c.walBytes ? `; the server's WAL: ${Math.round(c.walBytes / Math.max(1, c.items)).toLocaleString('en-US')} B/${what}` : '') +
    (c.databaseWalError ? `; this database's WAL not read (${c.databaseWalError.slice(0, 120)})` : '') +
    (c.otherDatabaseTransactions && c.databaseWalBytes === null ? `; warning: ${c.otherDatabaseTransactions} transactions of other databases in the window (their WAL is counted)` : '');
}
