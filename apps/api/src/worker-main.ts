// npm run worker: job workers only (no HTTP but /metrics, /healthz and /readyz on METRICS_PORT when
// metrics are on), to scale processing on other processes or machines.
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { boot } from './bootstrap.ts';
import { healthRoutes, type ReadinessState } from './health.ts';
import { startJobRunner } from './jobs/runner.ts';
import { metricsRoutes, metricsServed } from './metrics-route.ts';

const { deps, databaseUrl, onShutdown } = await boot({
  applicationName: 'crm-worker',
  defaultPoolSize: 10,
  seed: false,
});
const concurrency = Math.max(1, deps.config.workerConcurrency);

/** The job runner, and the health and metrics port when metrics are on. */
async function startWorker() {
  const runner = await startJobRunner(deps, { concurrency, databaseUrl });
  const readiness: ReadinessState = { draining: false, workers: runner.running };
  let server: ReturnType<typeof serve> | null = null;
  if (metricsServed(deps.config)) {
    const app = new Hono();
    app.route('/', healthRoutes(deps, readiness));
    app.route('/', metricsRoutes(deps));
    server = await new Promise((resolve) => {
      const s = serve({ fetch: app.fetch, port: deps.config.metrics.workerPort, hostname: '0.0.0.0' }, () =>
        resolve(s),
      );
    });
  }
  deps.log.info('worker started', {
    concurrency,
    metricsPort: server ? (server.address() as AddressInfo).port : null,
  });
  return { runner, readiness, server };
}

// The drain is registered before anything starts: a SIGTERM while the runner starts (it may already
// hold work) waits for the start, then drains, instead of killing the process.
const starting = startWorker();
onShutdown(async () => {
  const { runner, readiness, server } = await starting;
  readiness.draining = true;
  await runner.stop({ timeoutMs: deps.config.shutdownTimeoutMs });
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});
await starting;
