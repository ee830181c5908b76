// npm start: SPA, API, webhooks and job workers on PORT, over DATABASE_URL or the embedded default.
import { boot } from './bootstrap.ts';
import { startServer } from './server.ts';

const { deps, databaseUrl, embedded, onShutdown } = await boot({
  applicationName: 'crm-api',
  defaultPoolSize: 20,
  seed: true,
});
// The drain is registered before anything starts, so a SIGTERM during the start waits for it and
// then drains, instead of killing the process with jobs half-taken.
const starting = startServer(deps, { port: deps.config.port, databaseUrl });
onShutdown(async () => (await starting).close());
const server = await starting;
deps.log.info('listening', {
  url: `http://localhost:${server.port}`,
  webhookUrl: `${deps.config.publicUrl}/webhooks/shopify`,
  database: embedded ? 'embedded' : 'DATABASE_URL',
  workers: deps.config.workerConcurrency,
});
