// Where the admin key comes from: HERALD_ADMIN_KEY, else the file `admin.key` in the data
// directory, which Herald's first start writes. `herald serve` and `herald demo` resolve it
// (generating it when there is none); `herald admin-key` only reads it.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from './config.js';
import { newApiKey } from './domain/ids.js';

export interface AdminKey {
  key: string;
  /** 'env' for HERALD_ADMIN_KEY, 'file' for the data directory's admin.key, 'generated' when written now. */
  source: 'env' | 'file' | 'generated';
}

/** The admin key file of a data directory, as the operator would type it: `data/admin.key`. */
export function adminKeyFile(dataDir: string): string {
  return join(dataDir, 'admin.key');
}

/** HERALD_ADMIN_KEY, else the key stored in the data directory, else null. */
export function readAdminKey(config: Pick<Config, 'adminKey' | 'dataDir'>): AdminKey | null {
  if (config.adminKey) return { key: config.adminKey, source: 'env' };
  const file = resolve(adminKeyFile(config.dataDir));
  if (existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), source: 'file' };
  return null;
}

/** The admin key in force; when there is none, a new one stored in the data directory (mode 0600). */
export function resolveAdminKey(config: Pick<Config, 'adminKey' | 'dataDir'>): AdminKey {
  const found = readAdminKey(config);
  if (found) return found;
  const file = resolve(adminKeyFile(config.dataDir));
  mkdirSync(resolve(config.dataDir), { recursive: true });
  const key = newApiKey('admin');
  writeFileSync(file, key + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { key, source: 'generated' };
}
