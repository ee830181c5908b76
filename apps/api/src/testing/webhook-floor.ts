/**
 * The webhook route as it runs in production — body limits, headers, HMAC against the stored
 * (encrypted) secret, JSON check, logging — with its database work replaced by an in-memory store.
 * For the ingest benchmark: what one delivery costs in Node alone, so that the route's throughput can
 * be read against what the process could do with a database that cost nothing.
 */

import { encryptSecret, generateEncryptionKey, parseEncryptionKey } from '@crm/db';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createLogger } from '../log.ts';
import { webhookRoutes } from '../webhooks/route.ts';
import type { WebhookStore } from '../webhooks/store.ts';

/** Serves POST /webhooks/shopify for one shop on `port`; every verified delivery is "accepted". */
export function serveWebhookRouteWithoutDatabase(options: {
  port: number;
  shopDomain: string;
  secret: string;
}) {
  const key = parseEncryptionKey(generateEncryptionKey());
  const integration = {
    id: '00000000-0000-4000-8000-000000000001',
    workspaceId: '00000000-0000-4000-8000-000000000002',
    isActive: true,
    webhookSecretEnc: encryptSecret(options.secret, key),
    webhookSecretPreviousEnc: null,
  };
  const seen = new Set<string>();
  const store: WebhookStore = {
    route: async (shop) =>
      shop === options.shopDomain.toLowerCase() ? { integration, remembered: false } : null,
    store: async (event) => {
      if (seen.has(event.externalId)) return 'duplicate';
      seen.add(event.externalId);
      return 'accepted';
    },
    storeFailed: async () => {},
  };
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ ok: true }));
  app.route('/', webhookRoutes({ key, log: createLogger(false) }, store));
  return serve({ fetch: app.fetch, port: options.port, hostname: '127.0.0.1' });
}
