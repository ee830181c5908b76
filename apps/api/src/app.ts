import { Hono } from 'hono';
import type { AppDeps } from './deps.ts';
import { healthRoutes, type ReadinessState } from './health.ts';
import { accessLog } from './http-log.ts';
import { shopifyOAuthRoutes } from './integrations/oauth-routes.ts';
import { metricsRoutes } from './metrics-route.ts';
import { securityHeaders } from './security.ts';
import { spaRoutes } from './static.ts';
import { trpcRoutes } from './trpc/http.ts';
import { webhookRoutes } from './webhooks/route.ts';
import { createWebhookStore } from './webhooks/store.ts';

/** The whole HTTP surface: /healthz, /readyz, /metrics, /webhooks/shopify, /trpc/*, and the SPA at /; security headers on all. */
export function createApp(deps: AppDeps, options: { readiness?: ReadinessState } = {}): Hono {
  const app = new Hono();
  app.use('*', accessLog(deps.log));
  app.use('*', securityHeaders(deps.config));
  app.route('/', healthRoutes(deps, options.readiness));
  app.route('/', metricsRoutes(deps));
  app.route('/', webhookRoutes(deps, createWebhookStore(deps.sql)));
  app.route('/', trpcRoutes(deps));
  app.route('/', shopifyOAuthRoutes(deps));
  if (deps.config.webDist) app.route('/', spaRoutes(deps.config.webDist));
  return app;
}
