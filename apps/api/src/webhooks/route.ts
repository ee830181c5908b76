import { Hono } from 'hono';
import type { AppDeps } from '../deps.ts';

// Placeholder until the webhook route lands (issue #4).
export function webhookRoutes(_deps: AppDeps): Hono {
  const app = new Hono();
  app.post('/webhooks/shopify', (c) => c.json({ error: 'not implemented' }, 501));
  return app;
}
