// npm run worker: job workers only (no HTTP), to scale processing on other processes or machines.
import {
  connectRolePools,
  createSql,
  encryptionKeyFile,
  loadEncryptionKey,
  migrate,
  openDatabase,
} from '@crm/db';
import { loadConfig } from './config.ts';
import { startJobRunner } from './jobs/runner.ts';
import { createLogger } from './log.ts';

const log = createLogger();
const config = loadConfig();
const db = await openDatabase(process.env);
const owner = createSql(db.url, { max: 1, applicationName: 'crm-migrate' });
await migrate(owner);
const key = await loadEncryptionKey(encryptionKeyFile());
const poolSize = Number(process.env.DB_POOL_SIZE ?? 10);
const sql = await connectRolePools(db.url, {
  applicationName: 'crm-worker',
  sizes: { user: poolSize, worker: poolSize, auth: 4, owner: 4 },
});
const concurrency = Math.max(1, config.workerConcurrency);
const runner = await startJobRunner({ sql, key, config, log }, { concurrency, databaseUrl: db.url });
log.info('worker started', { concurrency });

async function shutdown(signal: string): Promise<void> {
  log.info('worker stopping', { signal });
  await runner.stop();
  await sql.end({ timeout: 5 });
  await owner.end({ timeout: 5 });
  await db.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
