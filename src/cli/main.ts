#!/usr/bin/env node
import { Command, Option } from 'commander';
import { ConfigError, SETTINGS, flagName, loadConfig } from '../config.js';
import pino from 'pino';
import { VERSION, createHerald, openStore } from '../herald.js';
import { listen } from './listen.js';
import { runDemo } from './demo.js';
import { CopyError, runCopy } from './copy.js';

const program = new Command('herald').description('Herald: webhook delivery you can run yourself').version(VERSION);

function withSettings(cmd: Command): Command {
  for (const s of SETTINGS) cmd.addOption(new Option(`--${flagName(s)} <value>`, `${s.help} (${s.env})`));
  return cmd;
}

withSettings(program.command('serve').description('run the API, the dashboard and the delivery worker'))
  .action(async (flags: Record<string, string>) => {
    const config = loadConfig(process.env, kebab(flags));
    const herald = await createHerald(config);
    const address = await herald.start();
    if (herald.generatedAdminKey) {
      console.log(`\nHerald generated an admin API key (stored in ${config.dataDir}/admin.key, shown only now):\n\n    ${herald.generatedAdminKey}\n`);
    }
    if (herald.store.kind === 'postgres' && !config.adminKey && config.role !== 'worker') {
      // Each node would otherwise have an admin key of its own, and behind a load balancer the API would answer 401 at random.
      console.warn(`HERALD_ADMIN_KEY is not set: this node's admin key is the one in ${config.dataDir}/admin.key; with several nodes, give them all the same HERALD_ADMIN_KEY`);
    }
    if (address) {
      console.log(`Herald ${VERSION} is listening on ${address} (role ${config.role}, ${herald.store.kind} store)`);
      console.log(`Dashboard: ${address}/   API: ${address}/api/v1   API reference: ${address}/docs`);
    }
    else console.log(`Herald ${VERSION} worker started (${herald.store.kind} store)`);
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`${signal}: finishing attempts in flight, then stopping`);
      herald.stop().then(
        () => process.exit(0),
        (err) => {
          console.error(err);
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });

withSettings(program.command('migrate').description('apply database migrations and exit'))
  .action(async (flags: Record<string, string>) => {
    // Only the database: no admin key is read or generated, nothing listens.
    const config = loadConfig(process.env, kebab(flags), { role: 'worker' });
    const store = openStore(config, pino({ level: config.logLevel }));
    try {
      await store.migrate();
    } finally {
      await store.close();
    }
    console.log(`migrations applied (${store.kind})`);
  });

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
    const server = await listen({ port, host: o.host, secret: o.secret, publicKey: o.publicKey, failRate, delayMs, headerPrefix: o.headerPrefix.toLowerCase(), print: (l) => console.log(l) });
    const address = server.address();
    const shown = typeof address === 'object' && address ? `http://${o.host}:${address.port}/` : String(address);
    console.log(`herald listen: waiting for webhooks on ${shown} (Ctrl-C to stop)`);
    const close = () => server.close(() => process.exit(0));
    process.on('SIGINT', close);
    process.on('SIGTERM', close);
  });

withSettings(program.command('demo').description('Herald, a listener and a demo workspace receiving loyalty events every second'))
  .option('--listen-port <port>', "the listener's port", '9000')
  .action(async (flags: Record<string, string>) => {
    const { listenPort, ...settings } = flags;
    const config = loadConfig(process.env, kebab(settings), { dataDir: settings.dataDir ?? process.env.HERALD_DATA_DIR ?? './data-demo' });
    const demo = await runDemo(config, Number(listenPort), (line) => console.log(line));
    const stop = () => demo.stop().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

/** commander gives camelCase keys; the config wants flag names. */
function kebab(flags: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(flags).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()), v]));
}

program.parseAsync().catch((err) => {
  if (err instanceof ConfigError) {
    console.error(`herald: ${err.message}`);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});
