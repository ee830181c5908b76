/**
 * Shopify webhook topics: the one list of them in this code base (the app's handling, its metric
 * labels and the fake Shopify's subscribable set all read it).
 */

/** The topics this app handles. */
export const SHOPIFY_TOPICS = [
  'orders/create',
  'orders/updated',
  'orders/paid',
  'orders/cancelled',
  'app/uninstalled',
  'customers/redact',
  'shop/redact',
  'customers/data_request',
] as const;
export type ShopifyTopic = (typeof SHOPIFY_TOPICS)[number];
export type ShopifyOrderTopic = Extract<ShopifyTopic, `orders/${string}`>;

export function isShopifyTopic(topic: string): topic is ShopifyTopic {
  return (SHOPIFY_TOPICS as readonly string[]).includes(topic);
}

/**
 * The mandatory privacy topics: configured for the app in its TOML, never subscribed to through the
 * Admin API.
 */
export const COMPLIANCE_TOPICS = ['customers/redact', 'shop/redact', 'customers/data_request'] as const;

/**
 * Every topic known here by name: those handled, plus neighbours a shop may send this app (stored and
 * ignored) or that an app may subscribe to. A bounded set, e.g. for metric labels (anything else is
 * `other`).
 */
export const KNOWN_SHOPIFY_TOPICS = [
  ...SHOPIFY_TOPICS,
  'orders/fulfilled',
  'orders/partially_fulfilled',
  'orders/delete',
  'orders/edited',
  'customers/create',
  'customers/update',
  'products/create',
  'products/update',
] as const;

/** The topics an app may subscribe to through the Admin API (webhookSubscriptionCreate). */
export const API_SUBSCRIBABLE_TOPICS: readonly string[] = KNOWN_SHOPIFY_TOPICS.filter(
  (t) => !(COMPLIANCE_TOPICS as readonly string[]).includes(t),
);
