import { Hono } from 'hono';
import type { AppDeps } from './deps.ts';
import { healthRoutes } from './health.ts';
import { metricsRoutes } from './metrics-route.ts';
import { securityHeaders } from './security.ts';
import { spaRoutes } from './static.ts';
import { trpcRoutes } from './trpc/http.ts';
import { webhookRoutes } from './webhooks/route.ts';
import { createWebhookStore } from './webhooks/store.ts';

/** The whole HTTP surface: /healthz, /webhooks/shopify, /trpc/*, and the SPA at /; security headers on all. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.use('*', securityHeaders(deps.config));
  app.route('/', healthRoutes(deps));
  app.route('/', metricsRoutes(deps));
  app.route('/', webhookRoutes(deps, createWebhookStore(deps.sql)));
  app.route('/', trpcRoutes(deps));
  if (deps.config.webDist) app.route('/', spaRoutes(deps.config.webDist));
  return app;
}
