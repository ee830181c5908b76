import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import type { AppConfig } from './config.ts';
import type { AppDeps } from './deps.ts';
import { observeDatabase, registry } from './metrics.ts';

/** Whether this process serves GET /metrics: METRICS_ENABLED=true, or a METRICS_TOKEN is set. */
export function metricsServed(config: Pick<AppConfig, 'metrics'>): boolean {
  return config.metrics.enabled || config.metrics.token !== null;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** `Authorization: Bearer <token>` compared in constant time (digests: equal length whatever was sent). */
function bearerMatches(header: string | undefined, token: string): boolean {
  const sent = header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? '';
  return timingSafeEqual(digest(sent), digest(token)) && sent.length > 0;
}

/**
 * GET /metrics in Prometheus text format; absent (404) unless metrics are served. With a token set,
 * a request without `Authorization: Bearer <token>` gets 401 and no figure.
 */
export function metricsRoutes(deps: Pick<AppDeps, 'sql' | 'config'>): Hono {
  const app = new Hono();
  if (!metricsServed(deps.config)) return app;
  observeDatabase(deps.sql);
  const token = deps.config.metrics.token;
  app.get('/metrics', async (c) => {
    if (token !== null && !bearerMatches(c.req.header('authorization'), token)) {
      c.header('www-authenticate', 'Bearer realm="metrics"');
      return c.text('unauthorized\n', 401);
    }
    c.header('content-type', registry.contentType);
    return c.body(await registry.metrics());
  });
  return app;
}
