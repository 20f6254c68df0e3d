import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The numbered, forward-only migrations of one adapter, from migrations/<kind>/NNNN_name.sql
 * at the package root (the same relative place from src/ and from dist/).
 */
export function readMigrations(kind: 'sqlite' | 'postgres'): Migration[] {
  const dir = fileURLToPath(new URL(`../../migrations/${kind}/`, import.meta.url));
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 4)), name: f.slice(5, -4), sql: readFileSync(dir + f, 'utf8') }));
}
