import { getConnInfo } from '@hono/node-server/conninfo';
import { trpcServer } from '@hono/trpc-server';
import { Hono } from 'hono';
import type { AppDeps } from '../deps.ts';
import { TRPC_MAX_BATCH, trpcBatchLimit, trpcBodyLimit } from '../security.ts';
import { appRouter } from './root.ts';
import { createTRPCContext } from './trpc.ts';

/** The tRPC API at /trpc/*. */
export function trpcRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  app.use('/trpc/*', async (c, next) => {
    await next();
    c.header('cache-control', 'no-store');
  });
  // Before tRPC reads anything: the body cap and the batch cap (security.ts).
  app.use('/trpc/*', trpcBatchLimit, trpcBodyLimit);
  app.use(
    '/trpc/*',
    trpcServer({
      endpoint: '/trpc',
      router: appRouter,
      maxBatchSize: TRPC_MAX_BATCH,
      createContext: (opts, c) => {
        let ip = 'unknown';
        try {
          ip = getConnInfo(c).remote.address ?? 'unknown';
        } catch {
          ip = 'unknown';
        }
        return createTRPCContext({ deps, headers: opts.req.headers, resHeaders: opts.resHeaders, ip });
      },
    }),
  );
  return app;
}
