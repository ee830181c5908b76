// npm start: SPA, API, webhooks and job workers on PORT, over DATABASE_URL or the embedded default.
import { createSql, encryptionKeyFile, loadEncryptionKey, migrate, openDatabase, seed } from '@crm/db';
import { loadConfig } from './config.ts';
import { createLogger } from './log.ts';
import { startServer } from './server.ts';

const log = createLogger();
const config = loadConfig();
const db = await openDatabase(process.env);
const sql = createSql(db.url, { max: Number(process.env.DB_POOL_SIZE ?? 20), applicationName: 'crm-api' });
await migrate(sql);
const key = await loadEncryptionKey(encryptionKeyFile());
if (db.embedded || process.env.SEED === 'true') {
  const seeded = await seed(sql, { key });
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
  await db.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
