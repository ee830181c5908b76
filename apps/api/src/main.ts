// npm start: SPA, API, webhooks and job workers on PORT, over DATABASE_URL or the embedded default.
import {
  connectRolePools,
  createSql,
  encryptionKeyFile,
  loadEncryptionKey,
  migrate,
  openDatabase,
  seed,
} from '@crm/db';
import { loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { startServer } from './server.ts';

const log = createLogger();
const config = loadConfig();
const db = await openDatabase(process.env);
// Migrations and seed run as the owner; the app itself then logs in as its roles (RLS applies).
const owner = createSql(db.url, { max: 1, applicationName: 'crm-migrate' });
await migrate(owner);
const key = await loadEncryptionKey(encryptionKeyFile());
const poolSize = Number(process.env.DB_POOL_SIZE ?? 20);
const sql = await connectRolePools(db.url, {
  applicationName: 'crm-api',
  sizes: { user: poolSize, worker: poolSize, auth: 4, owner: 4 },
});
if (db.embedded || process.env.SEED === 'true') {
  const seeded = await seed(owner, { key });
  if (seeded.seeded) log.info('seeded the Demo Store', { workspaceId: seeded.workspaceId });
}
const server = await startServer({ sql, key, config, log }, { port: config.port, databaseUrl: db.url });
log.info('listening', {
  url: `http://localhost:${server.port}`,
  webhookUrl: `${config.publicUrl}/webhooks/shopify`,
  database: db.embedded ? 'embedded' : 'DATABASE_URL',
  workers: config.workerConcurrency,
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info('shutting down', { signal });
  await server.close();
  await sql.end({ timeout: 5 });
  await owner.end({ timeout: 5 });
  await db.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
