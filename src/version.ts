import { createRequire } from 'node:module';

/** The package version, sent as User-Agent: Herald/<version>. */
export const VERSION: string = createRequire(import.meta.url)('../package.json').version;
