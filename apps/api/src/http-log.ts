import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { LogFields, Logger } from './log.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** This request's id: the caller's X-Request-Id when sane, else a new UUID; echoed in the response. */
    requestId: string;
    /** The app's logger with this request's id on every line. */
    log: Logger;
  }
}

const SANE_ID = /^[\w.:-]{1,64}$/;
/**
 * Logged at debug, not info: probes polled every few seconds, and the webhook route, which writes a
 * line of its own per delivery (`webhook`: outcome, webhook id, the same requestId).
 */
const QUIET = new Set(['/healthz', '/readyz', '/metrics', '/webhooks/shopify']);

/** `log.child(bindings)`, built on its first use: most requests (every webhook) never log through it. */
function lazyChild(log: Logger, bindings: LogFields): Logger {
  let child: Logger | null = null;
  const get = () => {
    child ??= log.child(bindings);
    return child;
  };
  return {
    trace: (msg, fields) => get().trace(msg, fields),
    debug: (msg, fields) => get().debug(msg, fields),
    info: (msg, fields) => get().info(msg, fields),
    warn: (msg, fields) => get().warn(msg, fields),
    error: (msg, fields) => get().error(msg, fields),
    fatal: (msg, fields) => get().fatal(msg, fields),
    child: (more) => get().child(more),
    isLevelEnabled: (level) => log.isLevelEnabled(level),
  };
}

/**
 * HTTP access log on pino: one line per request (`http`: method, path without the query string,
 * status, ms, requestId) when it is answered; 5xx at warn. Sets `requestId` and a child `log` on the
 * context for the handlers.
 */
export function accessLog(log: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    const given = c.req.header('x-request-id');
    const requestId = given && SANE_ID.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    c.set('log', lazyChild(log, { requestId }));
    await next();
    c.header('x-request-id', requestId);
    const status = c.res.status;
    const fields = {
      requestId,
      method: c.req.method,
      path: c.req.path,
      status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    };
    if (status >= 500) log.warn('http', fields);
    else if (QUIET.has(c.req.path)) log.debug('http', fields);
    else log.info('http', fields);
  };
}
