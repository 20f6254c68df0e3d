#!/usr/bin/env node
import { Command, Option } from 'commander';
import { ConfigError, SETTINGS, flagName, loadConfig } from '../config.js';
import { VERSION, createHerald } from '../herald.js';

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
    if (address) console.log(`Herald ${VERSION} is listening on ${address} (role ${config.role}, ${herald.store.kind} store)`);
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
    const config = loadConfig(process.env, kebab(flags), { role: 'worker' });
    const herald = await createHerald(config);
    await herald.stop();
    console.log(`migrations applied (${herald.store.kind})`);
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
