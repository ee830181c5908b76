import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp } from './app.ts';
import type { AppDeps } from './deps.ts';
import type { ReadinessState } from './health.ts';
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
  readiness: ReadinessState;
  /**
   * Drains and stops: /readyz turns 503, the port stops accepting, requests in flight (acks among
   * them) are answered, then the job workers finish their running jobs — or, at the bound
   * (config.shutdownTimeoutMs, shared by both steps), those left are released for another worker.
   */
  close: () => Promise<void>;
};

type HttpServer = ReturnType<typeof serve>;

/** Stops accepting and waits for the requests in flight; at `deadline`, cuts what is left. */
function closeHttp(server: HttpServer, deadline: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const s = server as HttpServer & { closeIdleConnections?: () => void; closeAllConnections?: () => void };
    // Keep-alive connections between requests would hold close() open: close each once idle.
    const idle = setInterval(() => s.closeIdleConnections?.(), 50);
    const cut = setTimeout(() => s.closeAllConnections?.(), Math.max(0, deadline - Date.now()));
    server.close(() => {
      clearInterval(idle);
      clearTimeout(cut);
      resolve();
    });
    s.closeIdleConnections?.();
  });
}

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
  const readiness: ReadinessState = { draining: false, workers: null };
  const app = createApp(deps, { readiness });
  const runner =
    deps.config.workerConcurrency > 0
      ? await startJobRunner(deps, { concurrency: deps.config.workerConcurrency, ...queue })
      : null;
  if (runner) readiness.workers = runner.running;
  const server = await new Promise<HttpServer>((resolve) => {
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
    readiness,
    close: async () => {
      readiness.draining = true;
      const deadline = Date.now() + deps.config.shutdownTimeoutMs;
      await closeHttp(server, deadline);
      await runner?.stop({ timeoutMs: Math.max(0, deadline - Date.now()) });
    },
  };
}
