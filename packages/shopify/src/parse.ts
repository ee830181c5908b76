import type { z } from 'zod';
import { parseJsonLossless } from './json.ts';
import {
  type AppUninstalled,
  appUninstalledSchema,
  type CustomersDataRequest,
  type CustomersRedact,
  customersDataRequestSchema,
  customersRedactSchema,
  type ShopifyOrder,
  type ShopRedact,
  shopifyOrderSchema,
  shopRedactSchema,
} from './schemas.ts';
import { isShopifyTopic, SHOPIFY_TOPICS, type ShopifyOrderTopic } from './topics.ts';

export type ShopifyPayloadIssue = { path: string; message: string };

/** A webhook body that is not JSON, or not what its topic promises. The message names the fields. */
export class ShopifyPayloadError extends Error {
  readonly issues: ShopifyPayloadIssue[];

  constructor(issues: ShopifyPayloadIssue[]) {
    super(issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '));
    this.name = 'ShopifyPayloadError';
    this.issues = issues;
  }
}

export type ShopifyWebhookPayload =
  | { topic: ShopifyOrderTopic; payload: ShopifyOrder }
  | { topic: 'app/uninstalled'; payload: AppUninstalled }
  | { topic: 'customers/redact'; payload: CustomersRedact }
  | { topic: 'shop/redact'; payload: ShopRedact }
  | { topic: 'customers/data_request'; payload: CustomersDataRequest };

/** ["line_items", 0, "quantity"] → "line_items[0].quantity" */
function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`))
    .join('');
}

function readJson(rawBody: string | Uint8Array): unknown {
  let text: string;
  try {
    text = typeof rawBody === 'string' ? rawBody : new TextDecoder('utf-8', { fatal: true }).decode(rawBody);
  } catch {
    throw new ShopifyPayloadError([{ path: '', message: 'body is not UTF-8 text' }]);
  }
  try {
    return parseJsonLossless(text);
  } catch (err) {
    // SyntaxError, or a RangeError for absurdly deep nesting: either way not a body we can read.
    const reason = err instanceof Error ? err.message : String(err);
    throw new ShopifyPayloadError([{ path: '', message: `body is not JSON (${reason})` }]);
  }
}

function validate<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ShopifyPayloadError(
    result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
  );
}

/**
 * Reads a webhook body (the raw bytes, so that ids above 2^53 keep every digit) as its topic's payload.
 *
 * @throws ShopifyPayloadError for an unknown topic, a body that is not JSON, or a payload that does
 *   not fit the topic's schema — and never anything else.
 */
export function parseWebhookPayload(topic: string, rawBody: string | Uint8Array): ShopifyWebhookPayload {
  const t = topic.trim().toLowerCase();
  if (!isShopifyTopic(t)) {
    throw new ShopifyPayloadError([
      { path: '', message: `unsupported topic "${topic}" (expected one of ${SHOPIFY_TOPICS.join(', ')})` },
    ]);
  }
  const json = readJson(rawBody);
  switch (t) {
    case 'orders/create':
    case 'orders/updated':
    case 'orders/paid':
    case 'orders/cancelled':
      return { topic: t, payload: validate(shopifyOrderSchema, json) };
    case 'app/uninstalled':
      return { topic: t, payload: validate(appUninstalledSchema, json) };
    case 'customers/redact':
      return { topic: t, payload: validate(customersRedactSchema, json) };
    case 'shop/redact':
      return { topic: t, payload: validate(shopRedactSchema, json) };
    case 'customers/data_request':
      return { topic: t, payload: validate(customersDataRequestSchema, json) };
  }
}

/** Reads an order body (a webhook's, or one order of the Admin API) losslessly. @throws ShopifyPayloadError */
export function parseOrder(rawBody: string | Uint8Array): ShopifyOrder {
  return validate(shopifyOrderSchema, readJson(rawBody));
}

/**
 * Validates an order already parsed by parseJsonLossless — e.g. one element of an Admin API page
 * `{ "orders": [...] }`. Never give it the output of JSON.parse: ids above 2^53 are lost there.
 * @throws ShopifyPayloadError
 */
export function validateOrder(value: unknown): ShopifyOrder {
  return validate(shopifyOrderSchema, value);
}
