// The committed schema manifests (migrations/schema.sqlite.txt, migrations/schema.postgres.txt)
// must be what the migrations produce: each store is migrated afresh and described again, and
// a difference fails with the lines that differ. After changing a migration, run
// `node --import tsx scripts/schema-manifest.ts` and commit the manifests with it.
// PostgreSQL unreachable: its case is skipped with the reason, except under CI=true, where
// that is a failure.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { postgresManifest, sqliteManifest } from '../../src/store/schema-manifest.js';
import { DATABASE_URL, unreachable } from '../helpers/postgres.js';

const committed = (kind: 'sqlite' | 'postgres') => readFileSync(new URL(`../../migrations/schema.${kind}.txt`, import.meta.url), 'utf8');

/** The lines only in `expected` (-) and only in `actual` (+), in order (a longest-common-subsequence diff). */
function lineDiff(expected: string, actual: string): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) out.push(`- ${a[i++]}`);
    else out.push(`+ ${b[j++]}`);
  }
  return out.join('\n');
}

function assertSame(kind: 'sqlite' | 'postgres', actual: string): void {
  const expected = committed(kind);
  if (actual === expected) return;
  assert.fail(
    `migrations/schema.${kind}.txt differs from the schema the migrations produce ` +
      `(- committed, + migrated; run node --import tsx scripts/schema-manifest.ts and commit):\n${lineDiff(expected, actual)}`,
  );
}

const reason = await unreachable();
const skip = reason !== null && process.env.CI !== 'true'
  ? `PostgreSQL is unreachable at ${DATABASE_URL} (${reason}); set HERALD_TEST_DATABASE_URL to check this manifest`
  : false;

describe('schema manifests', () => {
  it('SQLite: migrations/schema.sqlite.txt is the migrated schema', async () => {
    assertSame('sqlite', await sqliteManifest());
  });

  it('PostgreSQL: migrations/schema.postgres.txt is the migrated schema', { skip }, async () => {
    assert.equal(reason, null, `PostgreSQL must be reachable when CI=true (${DATABASE_URL}: ${reason})`);
    assertSame('postgres', await postgresManifest(DATABASE_URL, `herald_manifest_${process.pid}`));
  });

  it('the diff names the lines that differ', () => {
    assert.equal(lineDiff('a\nb\nc', 'a\nx\nc'), '- b\n+ x');
    assert.equal(lineDiff('a\nc', 'a\nb\nc'), '+ b');
  });
});
