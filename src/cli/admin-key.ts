// `herald admin-key`, and what `serve` and `demo` say about the admin key: it is printed when
// generated, and otherwise every start says where it is, so an operator whose first start
// failed (or scrolled away) still finds it.
import { SETTINGS, type Config } from '../config.js';
import { adminKeyFile, readAdminKey, type AdminKey } from '../admin-key.js';
import { CliError } from './errors.js';

const DEFAULT_DATA_DIR = SETTINGS.find((s) => s.key === 'dataDir')!.default as string;

/** The command that prints this data directory's key again. */
export function adminKeyCommand(dataDir: string): string {
  return `npx herald admin-key${dataDir === DEFAULT_DATA_DIR ? '' : ` --data-dir ${dataDir}`}`;
}

/** A line saying where the admin key is, or null when it came from HERALD_ADMIN_KEY (the operator's own). */
export function whereTheKeyIs(config: Pick<Config, 'dataDir'>, source: AdminKey['source']): string | null {
  const file = adminKeyFile(config.dataDir);
  if (source === 'generated') return `Herald generated the admin key into ${file} (${adminKeyCommand(config.dataDir)} prints it).`;
  if (source === 'file') return `Admin key: in ${file} (${adminKeyCommand(config.dataDir)} prints it).`;
  return null;
}

/** `herald admin-key`: the key in force, alone on a line (for `KEY=$(npx herald admin-key)`). */
export function printAdminKey(config: Pick<Config, 'adminKey' | 'dataDir'>, print: (line: string) => void): void {
  const found = readAdminKey(config);
  if (!found) {
    throw new CliError(
      `no admin key: HERALD_ADMIN_KEY is not set and ${adminKeyFile(config.dataDir)} does not exist`,
      ['Herald writes that file on its first start (npm start); give --data-dir (or HERALD_DATA_DIR) if it keeps its data elsewhere.'],
    );
  }
  print(found.key);
}
