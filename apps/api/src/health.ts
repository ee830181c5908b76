import { workerPool } from '@crm/db/worker';
import { Hono } from 'hono';
import type { AppDeps } from './deps.ts';

/** GET /healthz: 200 when the database answers within 2 s, 503 otherwise. */
export function healthRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  app.get('/healthz', async (c) => {
    try {
      await Promise.race([
        workerPool(deps.sql)`select 1`,
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
      ]);
      return c.json({ ok: true, database: 'up' });
    } catch {
      return c.json({ ok: false, database: 'down' }, 503);
    }
  });
  return app;
}
