// npm run worker: job workers only (no HTTP), to scale processing on other processes or machines.
import { boot } from './bootstrap.ts';
import { startJobRunner } from './jobs/runner.ts';

const { deps, databaseUrl, onShutdown } = await boot({
  applicationName: 'crm-worker',
  defaultPoolSize: 10,
  seed: false,
});
const concurrency = Math.max(1, deps.config.workerConcurrency);
const runner = await startJobRunner(deps, { concurrency, databaseUrl });
deps.log.info('worker started', { concurrency });
onShutdown(() => runner.stop());
