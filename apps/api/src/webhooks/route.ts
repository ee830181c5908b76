/**
 * POST /webhooks/shopify — Shopify's deliveries, as HTTP: the body, the headers, a deadline and the
 * answer for each outcome. What a delivery means (routing, HMAC, storing, the read-again protocol)
 * is intake.ts's; the database work is store.ts's. A 200 is sent only after the commit that holds
 * the event and its job; processing happens in the job workers, never here.
 *
 *   1. raw bytes first, within the bounds on uploads in flight (uploads.ts): beyond them → 503 at
 *      once; over 2 MiB → 413 (once read to its end, dropped; announced over 8 MiB → at once, the
 *      connection closed); not all there within the read deadline → 408 and the connection closed
 *   2. no HMAC header → 401; no webhook id, shop domain or topic → 400
 *   3. the intake's outcome, answered by REPLIES; the database cannot take it in time → 503 so
 *      Shopify retries (a retry of an event that did commit after all is a duplicate, 200 then)
 */
import { SHOPIFY_WEBHOOK_HEADERS, STORED_WEBHOOK_HEADERS } from '@crm/shopify';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppDeps } from '../deps.ts';
import { metrics } from '../metrics.ts';
import {
  createWebhookIntake,
  type IntakeOutcome,
  IntegrationChanged,
  type SignedDelivery,
} from './intake.ts';
import type { WebhookStore } from './store.ts';
import { createUploadGate, takeUpload, type UploadGate } from './uploads.ts';

/** Shopify gives up on a delivery after 5 s: answer 503 well before, rather than not at all. */
const DATABASE_DEADLINE_MS = 4000;

export type WebhookOutcome =
  | IntakeOutcome
  | 'too_large'
  | 'too_slow'
  | 'busy'
  | 'missing_hmac'
  | 'missing_headers'
  | 'unreadable'
  | 'unavailable';

/** The answer to each outcome. */
const REPLIES: Record<WebhookOutcome, { status: ContentfulStatusCode; body: Record<string, unknown> }> = {
  accepted: { status: 200, body: { ok: true, status: 'accepted' } },
  duplicate: { status: 200, body: { ok: true, status: 'duplicate' } },
  ignored: { status: 200, body: { ok: true, status: 'ignored' } },
  bad_hmac: { status: 401, body: { error: 'invalid HMAC signature' } },
  invalid_json: { status: 400, body: { error: 'the body is not valid JSON' } },
  error: { status: 500, body: { error: 'the webhook could not be verified' } },
  too_large: { status: 413, body: { error: 'payload too large' } },
  too_slow: { status: 408, body: { error: 'the body did not arrive in time' } },
  busy: { status: 503, body: { error: 'too many uploads in flight, retry later' } },
  missing_hmac: { status: 401, body: { error: 'missing X-Shopify-Hmac-Sha256' } },
  missing_headers: {
    status: 400,
    body: { error: 'missing X-Shopify-Webhook-Id, X-Shopify-Shop-Domain or X-Shopify-Topic' },
  },
  unreadable: { status: 400, body: { error: 'the request body could not be read' } },
  unavailable: { status: 503, body: { error: 'temporarily unavailable, retry later' } },
};

class DeadlineExceeded extends Error {}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceeded('database deadline exceeded')), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function header(c: Context, name: string): string | null {
  const v = c.req.header(name)?.trim();
  return v ? v : null;
}

/** The client's address (the TCP peer, as for the login throttle), or 'unknown' off a Node server. */
function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function parseDate(value: string | null): Date | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

const H = SHOPIFY_WEBHOOK_HEADERS;

/** The delivery's headers, or the outcome that refuses it. */
function readHeaders(c: Context): Omit<SignedDelivery, 'body'> | 'missing_hmac' | 'missing_headers' {
  const hmac = header(c, H.hmac);
  if (!hmac) return 'missing_hmac';
  const shopDomain = header(c, H.shopDomain)?.toLowerCase();
  const topic = header(c, H.topic)?.toLowerCase();
  const webhookId = header(c, H.webhookId);
  if (!webhookId || !shopDomain || !topic) return 'missing_headers';
  return {
    hmac,
    shopDomain,
    topic,
    webhookId,
    eventId: header(c, H.eventId),
    apiVersion: header(c, H.apiVersion),
    triggeredAt: parseDate(header(c, H.triggeredAt)),
    headers: Object.fromEntries(
      STORED_WEBHOOK_HEADERS.flatMap((name) => {
        const v = header(c, name);
        return v ? [[name, v]] : [];
      }),
    ),
  };
}

function notStoredReason(error: unknown): string {
  if (error instanceof DeadlineExceeded) return 'deadline';
  if (error instanceof IntegrationChanged) return 'integration changed';
  return (error as { code?: string }).code ?? 'error';
}

/** Outcomes after which the connection is closed (besides refused uploads, which say so). */
const CLOSES = new Set<WebhookOutcome>(['too_slow', 'busy']);

export type WebhookRouteOptions = {
  /** The bounds on uploads in flight (default: DEFAULT_UPLOAD_LIMITS, one gate per route). */
  uploads?: UploadGate;
};

/** The route; `store` does all of its database work (tests and the bench may give their own). */
export function webhookRoutes(
  deps: Pick<AppDeps, 'key' | 'log'>,
  store: WebhookStore,
  options: WebhookRouteOptions = {},
): Hono {
  const app = new Hono();
  const intake = createWebhookIntake(deps, store);
  const uploads = options.uploads ?? createUploadGate();

  app.post('/webhooks/shopify', async (c) => {
    const started = performance.now();
    const reply = (outcome: WebhookOutcome, close = CLOSES.has(outcome)) => {
      const { status, body } = REPLIES[outcome];
      const fields = {
        shop: header(c, H.shopDomain)?.toLowerCase() ?? null,
        topic: header(c, H.topic)?.toLowerCase() ?? null,
        webhookId: header(c, H.webhookId),
        requestId: c.var.requestId,
        outcome,
        status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      };
      metrics.webhookDelivery(fields.topic, outcome, status, (performance.now() - started) / 1000);
      if (status >= 500) deps.log.warn('webhook', fields);
      else deps.log.info('webhook', fields);
      if (close) c.header('connection', 'close');
      return c.json(body, status);
    };

    // 1. The raw bytes, before anything parses them, within the bounds on uploads (uploads.ts).
    const length = c.req.header('content-length');
    const announced = length !== undefined && /^\d+$/.test(length) ? Number(length) : null;
    const upload = await takeUpload(uploads, c.req.raw, announced, clientAddress(c));
    if ('refused' in upload) return reply(upload.refused, upload.close);
    const body = upload.body;

    // 2. The headers Shopify always sends.
    const headers = readHeaders(c);
    if (typeof headers === 'string') return reply(headers);

    // 3. Routed, verified and stored by the intake, within the deadline.
    try {
      return reply(await withDeadline(intake({ ...headers, body }), DATABASE_DEADLINE_MS));
    } catch (error) {
      // Not committed, or not known to be: not acked.
      deps.log.warn('webhook not stored', {
        shop: headers.shopDomain,
        topic: headers.topic,
        webhookId: headers.webhookId,
        reason: notStoredReason(error),
      });
      return reply('unavailable');
    }
  });

  return app;
}
