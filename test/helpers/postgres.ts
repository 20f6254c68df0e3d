// The PostgreSQL server the tests use: HERALD_TEST_DATABASE_URL, by default the local one with
// trust auth, and whether it answers (the suites that need it skip, or under CI=true fail).
import pg from 'pg';

export const DATABASE_URL = process.env.HERALD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Null when PostgreSQL answers, else why not. */
export async function unreachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}
