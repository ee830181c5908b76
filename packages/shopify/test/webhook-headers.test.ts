import { describe, expect, it } from 'vitest';
import {
  matchShopifyHmac,
  SHOPIFY_API_VERSION,
  SHOPIFY_WEBHOOK_HEADERS,
  STORED_WEBHOOK_HEADERS,
  signedWebhookHeaders,
} from '../src/index.ts';

const body = '{"id":6114532900000000001}';

describe('signedWebhookHeaders', () => {
  it("gives Shopify's seven delivery headers, the HMAC over the raw bytes under the secret", () => {
    const at = new Date('2026-02-04T20:57:03.000Z');
    const headers = signedWebhookHeaders(body, {
      topic: 'orders/create',
      shopDomain: 'demo-store.myshopify.com',
      secret: 'whsec-1',
      webhookId: 'wh-1',
      eventId: 'ev-1',
      triggeredAt: at,
    });
    expect(headers).toEqual({
      'content-type': 'application/json',
      'x-shopify-topic': 'orders/create',
      'x-shopify-shop-domain': 'demo-store.myshopify.com',
      'x-shopify-webhook-id': 'wh-1',
      'x-shopify-event-id': 'ev-1',
      'x-shopify-api-version': SHOPIFY_API_VERSION,
      'x-shopify-triggered-at': '2026-02-04T20:57:03.000Z',
      'x-shopify-hmac-sha256': headers['x-shopify-hmac-sha256'],
    });
    const hmac = headers[SHOPIFY_WEBHOOK_HEADERS.hmac];
    expect(matchShopifyHmac(new TextEncoder().encode(body), hmac, ['other', 'whsec-1'])).toBe(1);
  });

  it('makes fresh webhook and event ids per call, and no HMAC without a secret', () => {
    const options = { topic: 'orders/paid', shopDomain: 'a.myshopify.com' };
    const [a, b] = [signedWebhookHeaders(body, options), signedWebhookHeaders(body, options)];
    expect(a['x-shopify-webhook-id']).not.toBe(b['x-shopify-webhook-id']);
    expect(a['x-shopify-event-id']).not.toBe(b['x-shopify-event-id']);
    expect(a).not.toHaveProperty('x-shopify-hmac-sha256');
  });

  it('stores every delivery header but the signature', () => {
    expect(STORED_WEBHOOK_HEADERS).toHaveLength(6);
    expect(STORED_WEBHOOK_HEADERS).not.toContain('x-shopify-hmac-sha256');
  });
});
