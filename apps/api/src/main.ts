// npm start: SPA, API, webhooks and job workers on PORT, over DATABASE_URL or the embedded default.
import { boot } from './bootstrap.ts';
import { startServer } from './server.ts';

const { deps, databaseUrl, embedded, onShutdown } = await boot({
  applicationName: 'crm-api',
  defaultPoolSize: 20,
  seed: true,
});
const server = await startServer(deps, { port: deps.config.port, databaseUrl });
deps.log.info('listening', {
  url: `http://localhost:${server.port}`,
  webhookUrl: `${deps.config.publicUrl}/webhooks/shopify`,
  database: embedded ? 'embedded' : 'DATABASE_URL',
  workers: deps.config.workerConcurrency,
});
onShutdown(() => server.close());
