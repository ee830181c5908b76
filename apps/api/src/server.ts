import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from './app.ts';
import type { AppDeps } from './deps.ts';
import { type JobRunner, prepareJobQueue, startJobRunner } from './jobs/runner.ts';

/**
 * Node's HTTP timeouts, set deliberately rather than left at Node's defaults (60 s for headers, 300 s
 * for a whole request): a client gets 10 s to send its headers and 30 s for its whole request (the
 * webhook route has its own shorter body deadline); an idle keep-alive connection is closed after
 * 5 s. Whoever puts a load balancer in front keeps its idle timeout below keepAliveTimeout or
 * raises this one.
 */
export const SERVER_TIMEOUTS = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
  /** How often Node checks the two timeouts above (its default, 30 s, would let them run 30 s late). */
  connectionsCheckingInterval: 1_000,
} as const;

export type RunningServer = {
  url: string;
  port: number;
  runner: JobRunner | null;
  close: () => Promise<void>;
};

/**
 * Serves the app on a port (0: any free one) and, unless told not to, runs job workers in-process.
 * The job queue's schema is installed first, even with no workers here: the webhook route enqueues.
 */
export async function startServer(
  deps: AppDeps,
  options: { port: number; hostname?: string; databaseUrl?: string },
): Promise<RunningServer> {
  const queue = options.databaseUrl ? { databaseUrl: options.databaseUrl } : {};
  await prepareJobQueue(deps, queue);
  const app = createApp(deps);
  const runner =
    deps.config.workerConcurrency > 0
      ? await startJobRunner(deps, { concurrency: deps.config.workerConcurrency, ...queue })
      : null;
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve(
      {
        fetch: app.fetch,
        port: options.port,
        hostname: options.hostname ?? '0.0.0.0',
        serverOptions: SERVER_TIMEOUTS,
      },
      () => resolve(s),
    );
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    runner,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runner?.stop();
    },
  };
}
