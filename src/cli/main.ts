#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.js';
import pino from 'pino';
import { VERSION, openStore } from '../herald.js';
import { listen } from './listen.js';
import { DEMO_DATA_DIR, runDemo } from './demo.js';
import { CopyError, runCopy } from './copy.js';
import { settingFlags, withSettings, type Flags } from './options.js';
import { serve } from './serve.js';
import { printAdminKey } from './admin-key.js';
import { CliError, listenFailure } from './errors.js';

const program = new Command('herald').description('Herald: webhook delivery you can run yourself').version(VERSION);

/** The settings `herald migrate` uses: where the database is, and logging. */
const MIGRATE_SETTINGS: (keyof Config)[] = ['dataDir', 'databaseUrl', 'databaseSchema', 'logLevel'];
/** The settings `herald demo` takes as flags (the others still come from HERALD_* variables). */
const DEMO_SETTINGS: (keyof Config)[] = ['host', 'port', 'dataDir', 'logLevel'];

withSettings(program.command('serve').description('run the API, the dashboard and the delivery worker'))
  .action(async (flags: Flags) => serve(loadConfig(process.env, settingFlags(flags))));

withSettings(program.command('migrate').description('apply database migrations and exit'), MIGRATE_SETTINGS)
  .action(async (flags: Flags) => {
    // Only the database: no admin key is read or generated, nothing listens.
    const config = loadConfig(process.env, settingFlags(flags), { role: 'worker' });
    const store = openStore(config, pino({ level: config.logLevel }));
    try {
      await store.migrate();
    } finally {
      await store.close();
    }
    console.log(`migrations applied (${store.kind})`);
  });

withSettings(program.command('admin-key').description('print the admin API key (HERALD_ADMIN_KEY, else the one in the data directory)'), ['dataDir'])
  .action((flags: Flags) => printAdminKey(loadConfig(process.env, settingFlags(flags)), (line) => console.log(line)));

program
  .command('copy')
  .description('copy every workspace, key, webhook, event and delivery to an empty database (SQLite to PostgreSQL); stop Herald first')
  .option('--from <location>', 'SQLite data directory or herald.db file, or a postgres:// URL (default: HERALD_DATA_DIR, else ./data)')
  .option('--to <location>', 'postgres:// URL, or a SQLite data directory (default: HERALD_DATABASE_URL)')
  .option('--from-schema <name>', 'PostgreSQL schema of the source, when it is PostgreSQL')
  .option('--to-schema <name>', 'PostgreSQL schema of the target (default: HERALD_DATABASE_SCHEMA)')
  .option('--batch-size <rows>', 'rows per read and per insert', '500')
  .action(async (o: { from?: string; to?: string; fromSchema?: string; toSchema?: string; batchSize: string }) => {
    const to = o.to ?? process.env.HERALD_DATABASE_URL;
    if (!to) throw new ConfigError('copy: give --to postgres://… (or set HERALD_DATABASE_URL)');
    const batchSize = Number(o.batchSize);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new ConfigError('--batch-size must be a whole number from 1 to 10000');
    try {
      await runCopy({
        from: o.from ?? process.env.HERALD_DATA_DIR ?? './data',
        to,
        fromSchema: o.fromSchema,
        toSchema: o.toSchema ?? (process.env.HERALD_DATABASE_SCHEMA || undefined),
        batchSize,
        print: (line) => console.log(line),
      });
    } catch (err) {
      if (!(err instanceof CopyError)) throw err;
      console.error(`herald copy: ${err.message}`);
      process.exit(1);
    }
  });

program
  .command('listen')
  .description('a local receiver that prints every webhook it gets and answers 200')
  .option('--port <port>', 'port to listen on', '9000')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--secret <secret>', 'the webhook secret, to verify signatures')
  .option('--public-key <whpk>', "an ed25519 webhook's whpk_ public key, to verify its v1a signatures")
  .option('--fail-rate <share>', 'answer this share of requests (0 to 1) with 500, to watch retries', '0')
  .option('--delay-ms <ms>', 'wait this long before answering', '0')
  .option('--header-prefix <prefix>', 'prefix of the compatibility headers', 'x-nector')
  .action(async (o: { port: string; host: string; secret?: string; publicKey?: string; failRate: string; delayMs: string; headerPrefix: string }) => {
    const failRate = Number(o.failRate);
    const delayMs = Number(o.delayMs);
    const port = Number(o.port);
    if (!(failRate >= 0 && failRate <= 1)) throw new ConfigError('--fail-rate must be a number from 0 to 1');
    if (!(delayMs >= 0)) throw new ConfigError('--delay-ms must be a number of milliseconds');
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError('--port must be a port number');
    const server = await listen({ port, host: o.host, secret: o.secret, publicKey: o.publicKey, failRate, delayMs, headerPrefix: o.headerPrefix.toLowerCase(), print: (l) => console.log(l) })
      .catch((err) => {
        throw listenFailure(err, 'the listener', (p) => `--port ${p}`) ?? err;
      });
    const address = server.address();
    const shown = typeof address === 'object' && address ? `http://${o.host}:${address.port}/` : String(address);
    console.log(`herald listen: waiting for webhooks on ${shown} (Ctrl-C to stop)`);
    const close = () => server.close(() => process.exit(0));
    process.on('SIGINT', close);
    process.on('SIGTERM', close);
  });

withSettings(
  program.command('demo').description('Herald, a listener and a demo workspace receiving loyalty events every second (other settings: the HERALD_* variables)'),
  DEMO_SETTINGS,
  { dataDir: DEMO_DATA_DIR },
)
  .option('--listen-port <port>', "the listener's port", '9000')
  .option('--portal-port <port>', 'the port of the "Acme Loyalty dashboard" page that embeds the Webhooks page', '9001')
  .action(async (flags: Flags) => {
    const { listenPort, portalPort, ...settings } = flags;
    const config = loadConfig(process.env, settingFlags(settings), { dataDir: (settings.dataDir as string | undefined) ?? process.env.HERALD_DATA_DIR ?? DEMO_DATA_DIR });
    const demo = await runDemo(config, { listenPort: Number(listenPort), portalPort: Number(portalPort), print: (line) => console.log(line) });
    const stop = () => demo.stop().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

program.parseAsync().catch((err) => {
  if (err instanceof ConfigError) {
    console.error(`herald: ${err.message}`);
    process.exit(2);
  }
  if (err instanceof CliError) {
    console.error(`herald: ${err.message}`);
    for (const note of err.notes) console.error(note);
    process.exit(err.exitCode);
  }
  console.error(err);
  process.exit(1);
});
