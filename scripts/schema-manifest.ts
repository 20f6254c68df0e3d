// Writes the schema manifests (src/store/schema-manifest.ts) of both stores to
// migrations/schema.sqlite.txt and migrations/schema.postgres.txt. Run after adding a
// migration, and commit the result:  node --import tsx scripts/schema-manifest.ts
// PostgreSQL: HERALD_TEST_DATABASE_URL, by default the local server with trust auth.
import { writeFileSync } from 'node:fs';
import { postgresManifest, sqliteManifest } from '../src/store/schema-manifest.js';

const url = process.env.HERALD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const files = {
  sqlite: new URL('../migrations/schema.sqlite.txt', import.meta.url),
  postgres: new URL('../migrations/schema.postgres.txt', import.meta.url),
};

writeFileSync(files.sqlite, await sqliteManifest());
writeFileSync(files.postgres, await postgresManifest(url, `herald_manifest_${process.pid}`));
console.log('wrote migrations/schema.sqlite.txt and migrations/schema.postgres.txt');
