/**
 * POST /webhooks/shopify — Shopify's deliveries. The route only makes a delivery durable: it checks,
 * stores the event and enqueues its job in one transaction, and acks (200) only after that commit.
 * Processing happens in the job workers, never here.
 *
 *   1. raw bytes first; over 2 MiB → 413
 *   2. no HMAC header → 401; no webhook id, shop domain or topic → 400
 *   3. unknown or inactive shop → 200 `ignored`, nothing stored
 *   4. HMAC (constant time) against the current and, during a rotation, the previous secret → else 401
 *   5. signed body that is not JSON → stored as a `failed` event, 400
 *   6. insert the event (on conflict do nothing) + enqueue its job, one transaction; duplicate → 200
 *   7. 200 after commit; the database cannot take it → 503 so Shopify retries
 *
 * Concurrent deliveries share their database work (store.ts: one routing read, one transaction with
 * one commit for the events and jobs of many deliveries), which is what lets one PostgreSQL ack
 * thousands of deliveries a second; each is still answered only after the commit that holds it.
 */
import { decryptSecret, SecretDecryptionError } from '@crm/db';
import type { NewWebhookEvent, RoutedIntegration } from '@crm/db/worker';
import { matchShopifyHmac } from '@crm/shopify';
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AppDeps } from '../deps.ts';
import { bodyText, isJsonText, MAX_WEBHOOK_BODY_BYTES, readBodyWithLimit, stripNul } from './body.ts';
import type { WebhookStore } from './store.ts';

/** Shopify gives up on a delivery after 5 s: answer 503 well before, rather than not at all. */
const DATABASE_DEADLINE_MS = 4000;

/** Topics that are legal obligations: still taken from a shop whose integration is disabled. */
const COMPLIANCE_TOPICS = new Set(['customers/redact', 'shop/redact', 'customers/data_request']);

export type WebhookOutcome =
  | 'accepted'
  | 'duplicate'
  | 'ignored'
  | 'invalid_json'
  | 'too_large'
  | 'missing_hmac'
  | 'missing_headers'
  | 'unreadable'
  | 'bad_hmac'
  | 'unavailable'
  | 'error';

type Stored = { outcome: 'accepted' | 'duplicate' | 'ignored' | 'invalid_json' | 'bad_hmac' | 'error' };

class DeadlineExceeded extends Error {}

/** The integration changed between the route's read and its store: answered 503, Shopify retries. */
class IntegrationChanged extends Error {}

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

function parseDate(value: string | null): Date | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A signing secret valid now, with the ciphertext it is stored as. */
type SigningSecret = { secret: string; stored: string };

/**
 * The integration's signing secrets that are valid now: the current one, and a previous one not yet
 * expired. Decrypted once per routed integration: a remembered integration is the same object for
 * every delivery of its shop, and its secrets go when it is forgotten.
 */
const decrypted = new WeakMap<RoutedIntegration, SigningSecret[]>();
function signingSecrets(integration: RoutedIntegration, deps: Pick<AppDeps, 'key'>): SigningSecret[] {
  const known = decrypted.get(integration);
  if (known) return known;
  const secrets: SigningSecret[] = [];
  for (const stored of [integration.webhookSecretEnc, integration.webhookSecretPreviousEnc]) {
    if (stored) secrets.push({ secret: decryptSecret(stored, deps.key), stored });
  }
  decrypted.set(integration, secrets);
  return secrets;
}

/** The route; `store` does all of its database work (tests and the bench may give their own). */
export function webhookRoutes(deps: Pick<AppDeps, 'key' | 'log'>, store: WebhookStore): Hono {
  const app = new Hono();

  app.post('/webhooks/shopify', async (c) => {
    const started = performance.now();
    const shop = header(c, 'x-shopify-shop-domain')?.toLowerCase() ?? null;
    const topic = header(c, 'x-shopify-topic')?.toLowerCase() ?? null;
    const webhookId = header(c, 'x-shopify-webhook-id');

    const reply = (status: ContentfulStatusCode, outcome: WebhookOutcome, body: Record<string, unknown>) => {
      const fields = {
        shop,
        topic,
        webhookId,
        outcome,
        status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      };
      if (status >= 500) deps.log.warn('webhook', fields);
      else deps.log.info('webhook', fields);
      return c.json(body, status);
    };

    // 1. The raw bytes, before anything parses them; refused early when announced too large.
    const announced = Number(c.req.header('content-length') ?? Number.NaN);
    if (Number.isFinite(announced) && announced > MAX_WEBHOOK_BODY_BYTES) {
      return reply(413, 'too_large', { error: 'payload too large' });
    }
    let raw: Uint8Array | null;
    try {
      raw = await readBodyWithLimit(c.req.raw, MAX_WEBHOOK_BODY_BYTES);
    } catch {
      return reply(400, 'unreadable', { error: 'the request body could not be read' });
    }
    if (!raw) return reply(413, 'too_large', { error: 'payload too large' });

    // 2. The headers Shopify always sends.
    const hmac = header(c, 'x-shopify-hmac-sha256');
    if (!hmac) return reply(401, 'missing_hmac', { error: 'missing X-Shopify-Hmac-Sha256' });
    if (!webhookId || !shop || !topic) {
      return reply(400, 'missing_headers', {
        error: 'missing X-Shopify-Webhook-Id, X-Shopify-Shop-Domain or X-Shopify-Topic',
      });
    }
    const body = raw;

    const event = (text: string): NewWebhookEvent => ({
      integrationId: '',
      externalId: webhookId,
      eventId: header(c, 'x-shopify-event-id'),
      topic,
      shopDomain: shop,
      apiVersion: header(c, 'x-shopify-api-version'),
      triggeredAt: parseDate(header(c, 'x-shopify-triggered-at')),
      payload: text,
      headers: Object.fromEntries(
        [
          'x-shopify-topic',
          'x-shopify-shop-domain',
          'x-shopify-webhook-id',
          'x-shopify-event-id',
          'x-shopify-api-version',
          'x-shopify-triggered-at',
        ].flatMap((name) => {
          const v = header(c, name);
          return v ? [[name, v]] : [];
        }),
      ),
    });

    // 3–6 as app_worker: route by shop, verify, then store for that workspace only — each step
    // grouped with the concurrent deliveries' (store.ts), each delivery acked after its commit. A
    // remembered route may only lead to a store, which the database checks again (`stale`): every
    // other answer (ignored, 401, failed) is decided on a fresh read of the integration.
    const attempt = async (fresh: boolean): Promise<Stored | 'read again'> => {
      const routed = await store.route(shop, { fresh });
      const settle = (decided: Stored): Stored | 'read again' =>
        routed?.remembered ? 'read again' : decided;
      const integration = routed?.integration;
      const needsActiveIntegration = !COMPLIANCE_TOPICS.has(topic);
      if (!integration || (!integration.isActive && needsActiveIntegration)) {
        return settle({ outcome: 'ignored' });
      }
      let secrets: SigningSecret[];
      try {
        secrets = signingSecrets(integration, deps);
      } catch (error) {
        if (!(error instanceof SecretDecryptionError)) throw error;
        deps.log.error('webhook signing secret cannot be decrypted (encryption key changed?)', {
          integrationId: integration.id,
        });
        return settle({ outcome: 'error' });
      }
      const match = matchShopifyHmac(
        body,
        hmac,
        secrets.map((s) => s.secret),
      );
      const verifiedWith = secrets[match]?.stored;
      if (verifiedWith === undefined) return settle({ outcome: 'bad_hmac' });

      const { text, validUtf8 } = bodyText(body);
      if (!validUtf8 || !isJsonText(text)) {
        if (routed?.remembered) return 'read again';
        await store.storeFailed(
          integration.workspaceId,
          { ...event(stripNul(text)), integrationId: integration.id },
          validUtf8
            ? 'Shopify sent a body that is not valid JSON, so it could not be read.'
            : 'Shopify sent a body that is not valid UTF-8 text, so it could not be read.',
        );
        return { outcome: 'invalid_json' };
      }
      const outcome = await store.store({
        ...event(text),
        integrationId: integration.id,
        workspaceId: integration.workspaceId,
        verifiedWith,
        needsActiveIntegration,
      });
      if (outcome !== 'stale') return { outcome };
      // Changed between a fresh read and the store: a race with the owner; Shopify will retry.
      if (!routed?.remembered) throw new IntegrationChanged();
      return 'read again';
    };
    const storeDelivery = async (): Promise<Stored> => {
      const first = await attempt(false);
      if (first !== 'read again') return first;
      const second = await attempt(true); // a fresh read is never 'read again'
      if (second === 'read again') throw new IntegrationChanged();
      return second;
    };

    let stored: Stored;
    try {
      stored = await withDeadline(storeDelivery(), DATABASE_DEADLINE_MS);
    } catch (error) {
      // Not committed, or not known to be: not acked. Shopify retries; a retry of an event that did
      // commit after all is a duplicate and gets its 200 then.
      deps.log.warn('webhook not stored', {
        shop,
        topic,
        webhookId,
        reason:
          error instanceof DeadlineExceeded
            ? 'deadline'
            : error instanceof IntegrationChanged
              ? 'integration changed'
              : ((error as { code?: string }).code ?? 'error'),
      });
      return reply(503, 'unavailable', { error: 'temporarily unavailable, retry later' });
    }

    switch (stored.outcome) {
      case 'accepted':
        return reply(200, 'accepted', { ok: true, status: 'accepted' });
      case 'duplicate':
        return reply(200, 'duplicate', { ok: true, status: 'duplicate' });
      case 'ignored':
        return reply(200, 'ignored', { ok: true, status: 'ignored' });
      case 'bad_hmac':
        return reply(401, 'bad_hmac', { error: 'invalid HMAC signature' });
      case 'invalid_json':
        return reply(400, 'invalid_json', { error: 'the body is not valid JSON' });
      case 'error':
        return reply(500, 'error', { error: 'the webhook could not be verified' });
    }
  });

  return app;
}
