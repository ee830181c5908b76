import {
  connectRolePools,
  createSql,
  encryptionKeyFile,
  loadEncryptionKey,
  migrate,
  openDatabase,
  seed,
} from '@crm/db';
import { ConfigError, type Env, parseEnv, toConfig } from './config.ts';
import type { AppDeps } from './deps.ts';
import { createLogger } from './log.ts';

export type Booted = {
  deps: AppDeps;
  /** The owner's URL (migrations, graphile-worker's own pool). */
  databaseUrl: string;
  embedded: boolean;
  /** Runs `stop` (the process's own server or workers), closes the pools and the embedded database, exits. */
  onShutdown: (stop: () => Promise<void>) => void;
};

/**
 * What `npm start` and `npm run worker` share: the database (DATABASE_URL or the embedded default),
 * migrated as the owner, the credentials key, and the role pools the app runs on — it logs in as
 * app_user / app_worker / app_auth, never as the owner, so RLS is the wall.
 */
export async function boot(options: {
  applicationName: string;
  defaultPoolSize: number;
  seed: boolean;
}): Promise<Booted> {
  const env = parseEnvOrExit();
  const config = toConfig(env);
  const log = createLogger({ level: config.logLevel, pretty: config.logPretty });
  const db = await openDatabase(process.env);
  const owner = createSql(db.url, { max: 1, applicationName: `${options.applicationName}-migrate` });
  await migrate(owner);
  const key = await loadEncryptionKey(encryptionKeyFile());
  if (options.seed && (db.embedded || env.SEED)) {
    const seeded = await seed(owner, { key });
    if (seeded.seeded) log.info('seeded the Demo Store', { workspaceId: seeded.workspaceId });
  }
  await owner.end({ timeout: 5 });
  const poolSize = env.DB_POOL_SIZE ?? options.defaultPoolSize;
  const sql = await connectRolePools(db.url, {
    applicationName: options.applicationName,
    sizes: { user: poolSize, worker: poolSize, auth: 4, owner: 4 },
  });
  return {
    deps: { sql, key, config, log },
    databaseUrl: db.url,
    embedded: db.embedded,
    onShutdown: (stop) => {
      let stopping = false;
      // On Ctrl-C or SIGTERM the embedded PostgreSQL stops on the same signal, so connections may
      // break while we drain: during shutdown that is expected, not a reason to die mid-drain.
      process.on('uncaughtException', (error) => {
        if (stopping) {
          log.warn('connection error while shutting down', { error: error.message });
          return;
        }
        log.error('uncaught exception', { error: error.message });
        process.exit(1);
      });
      const shutdown = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        const started = Date.now();
        log.info('shutting down: draining', { signal, timeoutMs: config.shutdownTimeoutMs });
        try {
          await stop();
          await sql.end({ timeout: 5 });
          await db.stop();
        } catch (error) {
          log.error('shutdown did not complete cleanly', { error: (error as Error).message });
          process.exit(1);
        }
        log.info('shut down', { ms: Date.now() - started });
        process.exit(0);
      };
      process.on('SIGINT', () => void shutdown('SIGINT'));
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
    },
  };
}

/** The validated environment; on a bad value, the message naming it on stderr and exit code 2. */
function parseEnvOrExit(): Env {
  try {
    return parseEnv(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\nNothing was started.\n`);
    process.exit(2);
  }
}
