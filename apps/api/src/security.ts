import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import type { AppConfig } from './config.ts';

/**
 * Limits and headers every response carries, set where the app is assembled (app.ts):
 * - security headers on every response (SPA, /trpc, /webhooks/shopify, /healthz, errors included);
 * - /trpc bodies capped at TRPC_MAX_BODY_BYTES before they are buffered (a larger Content-Length is
 *   refused at once with 413; a chunked body is counted as it arrives and cut off at the cap);
 * - at most TRPC_MAX_BATCH calls in one batched request (400 with a clear message).
 */
export const TRPC_MAX_BODY_BYTES = 64 * 1024;
export const TRPC_MAX_BATCH = 16;

/**
 * Content-Security-Policy the built SPA satisfies: Vite emits only external module scripts and
 * stylesheets (no inline script or style element), React sets styles through the DOM, and the
 * app talks only to its own origin.
 */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  baseUri: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  frameAncestors: ["'none'"],
  formAction: ["'self'"],
};

/** HSTS only where the app is served over HTTPS (SECURE_COOKIES, or an https PUBLIC_URL). */
export function servedOverHttps(config: Pick<AppConfig, 'secureCookies' | 'publicUrl'>): boolean {
  return config.secureCookies || config.publicUrl.startsWith('https://');
}

export function securityHeaders(config: Pick<AppConfig, 'secureCookies' | 'publicUrl'>): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: CONTENT_SECURITY_POLICY,
    xFrameOptions: 'DENY',
    xContentTypeOptions: 'nosniff',
    referrerPolicy: 'no-referrer',
    strictTransportSecurity: servedOverHttps(config) ? 'max-age=31536000; includeSubDomains' : false,
    crossOriginResourcePolicy: 'same-origin',
    crossOriginOpenerPolicy: 'same-origin',
    permissionsPolicy: { camera: [], microphone: [], geolocation: [], payment: [] },
  });
}

/** A tRPC-shaped error body, so the SPA's client reads it like any other refusal. */
function trpcError(message: string, code: 'PAYLOAD_TOO_LARGE' | 'BAD_REQUEST', status: 413 | 400) {
  return {
    error: {
      message,
      // JSON-RPC codes tRPC uses for these: PAYLOAD_TOO_LARGE -32013, BAD_REQUEST -32600.
      code: status === 413 ? -32013 : -32600,
      data: { code, httpStatus: status },
    },
  };
}

export const TRPC_BODY_TOO_LARGE = `The request is too large (at most ${TRPC_MAX_BODY_BYTES / 1024} KiB).`;
export const TRPC_BATCH_TOO_LARGE = `Too many calls in one request (at most ${TRPC_MAX_BATCH}).`;

/** /trpc request body cap, checked before anything is buffered. */
export const trpcBodyLimit: MiddlewareHandler = bodyLimit({
  maxSize: TRPC_MAX_BODY_BYTES,
  onError: (c) => {
    // The rest of an oversized body is not worth reading: close the connection after the answer.
    c.header('connection', 'close');
    return c.json(trpcError(TRPC_BODY_TOO_LARGE, 'PAYLOAD_TOO_LARGE', 413), 413);
  },
});

/** Refuses a batch of more than TRPC_MAX_BATCH calls from its URL, before the body is read. */
export const trpcBatchLimit: MiddlewareHandler = async (c, next) => {
  if (c.req.query('batch') === '1') {
    const path = c.req.path.replace(/^\/trpc\/?/, '');
    const calls = path === '' ? 0 : path.split(',').length;
    if (calls > TRPC_MAX_BATCH) {
      return c.json(trpcError(TRPC_BATCH_TOO_LARGE, 'BAD_REQUEST', 400), 400);
    }
  }
  return next();
};
