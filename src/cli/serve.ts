// `herald serve`: starts Herald, says where it listens and where its admin key is, and stops
// it cleanly on SIGTERM / SIGINT. A port already in use is one line that says how to choose
// another, not a stack trace.
import type { Config } from '../config.js';
import { VERSION, createHerald, type Herald } from '../herald.js';
import { adminKeyFile } from '../admin-key.js';
import { CliError, listenFailure } from './errors.js';
import { adminKeyCommand, whereTheKeyIs } from './admin-key.js';

/** How to choose Herald's own port, for messages. */
export const choosePort = (port: number) => `HERALD_PORT=${port} or --port ${port}`;

/**
 * herald.start(), or, when it cannot listen, a CliError that says so (and where the admin key
 * is, since nothing printed it); Herald is stopped in that case.
 */
export async function startOrExplain(herald: Herald, config: Config): Promise<string | null> {
  try {
    return await herald.start();
  } catch (err) {
    await herald.stop();
    const failure = listenFailure(err, 'Herald', choosePort);
    if (!failure) throw err;
    const where = config.role === 'worker' ? null : whereTheKeyIs(config, herald.adminKeySource);
    throw new CliError(failure.message, where ? [where] : []);
  }
}

export async function serve(config: Config): Promise<void> {
  const herald = await createHerald(config);
  const address = await startOrExplain(herald, config);
  if (herald.generatedAdminKey) {
    console.log(`\nHerald generated an admin API key (stored in ${adminKeyFile(config.dataDir)}; ${adminKeyCommand(config.dataDir)} prints it again):\n\n    ${herald.generatedAdminKey}\n`);
  } else if (address && herald.adminKeySource === 'file') {
    console.log(whereTheKeyIs(config, 'file'));
  }
  if (herald.store.kind === 'postgres' && !config.adminKey && config.role !== 'worker') {
    // Each node would otherwise have an admin key of its own, and behind a load balancer the API would answer 401 at random.
    console.warn(`HERALD_ADMIN_KEY is not set: this node's admin key is the one in ${adminKeyFile(config.dataDir)}; with several nodes, give them all the same HERALD_ADMIN_KEY`);
  }
  if (address) {
    console.log(`Herald ${VERSION} is listening on ${address} (role ${config.role}, ${herald.store.kind} store)`);
    console.log(`Dashboard: ${address}/   API: ${address}/api/v1   API reference: ${address}/docs`);
  } else console.log(`Herald ${VERSION} worker started (${herald.store.kind} store)`);
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
}
