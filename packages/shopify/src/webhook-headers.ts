import { randomUUID } from 'node:crypto';
import { SHOPIFY_API_VERSION } from './api-version.ts';
import { signShopifyWebhook } from './hmac.ts';

/** The headers of a signed Shopify webhook delivery, lowercase (as Node and fetch give them). */
export const SHOPIFY_WEBHOOK_HEADERS = {
  topic: 'x-shopify-topic',
  shopDomain: 'x-shopify-shop-domain',
  webhookId: 'x-shopify-webhook-id',
  eventId: 'x-shopify-event-id',
  apiVersion: 'x-shopify-api-version',
  triggeredAt: 'x-shopify-triggered-at',
  hmac: 'x-shopify-hmac-sha256',
} as const;

/** The headers kept with a stored event: all but the signature. */
export const STORED_WEBHOOK_HEADERS: readonly string[] = Object.values(SHOPIFY_WEBHOOK_HEADERS).filter(
  (name) => name !== SHOPIFY_WEBHOOK_HEADERS.hmac,
);

export type SignedWebhookOptions = {
  topic: string;
  shopDomain: string;
  /** The signing secret; without one the delivery carries no X-Shopify-Hmac-Sha256. */
  secret?: string;
  /** A fresh UUID unless given (Shopify keeps it across retries of one delivery). */
  webhookId?: string;
  eventId?: string;
  /** Default: SHOPIFY_API_VERSION, the version the Admin API client speaks. */
  apiVersion?: string;
  triggeredAt?: Date;
};

/**
 * The headers Shopify sends with a delivery of these raw bytes: content type, topic, shop, webhook
 * id, event id, API version, trigger time and the HMAC-SHA256 of the body under `secret`.
 */
export function signedWebhookHeaders(
  rawBody: string | Uint8Array,
  options: SignedWebhookOptions,
): Record<string, string> {
  const h = SHOPIFY_WEBHOOK_HEADERS;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    [h.topic]: options.topic,
    [h.shopDomain]: options.shopDomain,
    [h.webhookId]: options.webhookId ?? randomUUID(),
    [h.eventId]: options.eventId ?? randomUUID(),
    [h.apiVersion]: options.apiVersion ?? SHOPIFY_API_VERSION,
    [h.triggeredAt]: (options.triggeredAt ?? new Date()).toISOString(),
  };
  if (options.secret !== undefined) headers[h.hmac] = signShopifyWebhook(rawBody, options.secret);
  return headers;
}
