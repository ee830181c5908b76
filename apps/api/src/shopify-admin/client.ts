/**
 * The Shopify Admin API client the owner-facing procedures call: connection test and webhook
 * subscriptions. Base URL from `config.shopifyAdminBaseUrl` (`{shop}` = shop domain), so tests and
 * the demo talk to the local fake (the @crm/fake-shopify workspace, apps/fake-shopify).
 *
 * Webhook subscriptions use the REST resource `/admin/api/<version>/webhooks.json`. Only the order
 * topics and app/uninstalled can be subscribed through the API: the mandatory compliance topics
 * (customers/data_request, customers/redact, shop/redact) are configured for the app in the Partner
 * dashboard / app configuration (`compliance_topics` in shopify.app.toml), never through this API.
 */
import { z } from 'zod';
import type { AppConfig } from '../config.ts';
import {
  adminFetch,
  parseJsonBody,
  readText,
  type ShopCredentials,
  ShopifyAdminError,
  statusError,
  versionedPath,
} from './http.ts';

export type { ShopCredentials } from './http.ts';
export { ShopifyAdminError } from './http.ts';

export type ConnectionFailureReason = 'bad_token' | 'unknown_shop' | 'missing_scope' | 'unreachable';
export type ConnectionTestResult =
  | { ok: true; shopName: string; scopes: string[] }
  | { ok: false; reason: ConnectionFailureReason; message: string };

export const REQUIRED_SCOPES = ['read_orders', 'read_customers'] as const;

/** The topics the product subscribes to through the Admin API. */
export const WEBHOOK_TOPICS = [
  'orders/create',
  'orders/updated',
  'orders/paid',
  'orders/cancelled',
  'app/uninstalled',
] as const;

/** The connection test answers quickly: an owner is waiting for it in a form. */
export const CONNECTION_TEST_TIMEOUT_MS = 5_000;

/** Removes the token from a message, should a server ever echo it back. */
export function redactToken(message: string, accessToken: string): string {
  return accessToken.length >= 4 ? message.split(accessToken).join('[redacted]') : message;
}

/** `write_x` grants `read_x` too. */
export function hasScope(granted: readonly string[], required: string): boolean {
  return (
    granted.includes(required) ||
    (required.startsWith('read_') && granted.includes(`write_${required.slice(5)}`))
  );
}

const shopBodySchema = z.object({ shop: z.object({ name: z.string() }) });
const scopesBodySchema = z.object({ access_scopes: z.array(z.object({ handle: z.string() })) });

async function getJson(
  config: AppConfig,
  creds: ShopCredentials,
  path: string,
  what: string,
  timeoutMs: number,
): Promise<unknown> {
  const response = await adminFetch(config, creds, { path, timeoutMs });
  const text = await readText(response, creds.shopDomain);
  if (!response.ok) throw statusError(response, creds.shopDomain, what, { notFoundIsUnknownShop: true });
  return parseJsonBody(text, creds.shopDomain, what);
}

function failureReason(error: ShopifyAdminError): ConnectionFailureReason {
  switch (error.kind) {
    case 'bad_token':
    case 'forbidden':
      return 'bad_token';
    case 'unknown_shop':
    case 'api_error':
      return 'unknown_shop';
    default:
      return 'unreachable';
  }
}

/**
 * GET shop.json (who is this store; is the token valid) and access_scopes.json (what may it do).
 * Never throws for an Admin API problem: the reason and an owner-readable message come back instead.
 */
export async function testConnection(
  config: AppConfig,
  creds: ShopCredentials,
  options: { timeoutMs?: number } = {},
): Promise<ConnectionTestResult> {
  const timeoutMs = options.timeoutMs ?? CONNECTION_TEST_TIMEOUT_MS;
  try {
    const shopBody = shopBodySchema.safeParse(
      await getJson(config, creds, versionedPath(config, 'shop.json'), 'reading the shop', timeoutMs),
    );
    if (!shopBody.success) {
      return {
        ok: false,
        reason: 'unknown_shop',
        message: `${creds.shopDomain} answered, but not like a Shopify store; check the shop domain.`,
      };
    }
    const scopesBody = scopesBodySchema.safeParse(
      await getJson(config, creds, '/admin/oauth/access_scopes.json', 'reading the access scopes', timeoutMs),
    );
    if (!scopesBody.success) {
      return {
        ok: false,
        reason: 'unknown_shop',
        message: `${creds.shopDomain} did not list the token's access scopes like a Shopify store would.`,
      };
    }
    const scopes = scopesBody.data.access_scopes.map((s) => s.handle);
    const missing = REQUIRED_SCOPES.filter((s) => !hasScope(scopes, s));
    if (missing.length > 0) {
      return {
        ok: false,
        reason: 'missing_scope',
        message: `The access token for ${shopBody.data.shop.name} lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}. Grant ${missing.length > 1 ? 'them' : 'it'} to the app in Shopify, reinstall it, and use the new token.`,
      };
    }
    return { ok: true, shopName: shopBody.data.shop.name, scopes };
  } catch (error) {
    if (error instanceof ShopifyAdminError) {
      return {
        ok: false,
        reason: failureReason(error),
        message: redactToken(error.message, creds.accessToken),
      };
    }
    throw error;
  }
}

// --- Webhook subscriptions ------------------------------------------------------------------------

export type WebhookSubscription = { id: string; topic: string; address: string };
export type SubscriptionHealth = { topic: string; present: boolean; recreated: boolean }[];

const idSchema = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String);
const webhookSchema = z.object({ id: idSchema, topic: z.string(), address: z.string() });
const webhookListSchema = z.object({ webhooks: z.array(webhookSchema) });
const webhookCreatedSchema = z.object({ webhook: webhookSchema });

function parseWith<T>(schema: z.ZodType<T>, body: unknown, shopDomain: string, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new ShopifyAdminError(
      'api_error',
      `Shopify (${shopDomain}) answered ${what} in an unexpected shape.`,
    );
  }
  return parsed.data;
}

/** Every webhook subscription of this app on the store. */
export async function listWebhooks(
  config: AppConfig,
  creds: ShopCredentials,
): Promise<WebhookSubscription[]> {
  const what = 'listing webhook subscriptions';
  const response = await adminFetch(config, creds, {
    path: versionedPath(config, 'webhooks.json?limit=250'),
  });
  const text = await readText(response, creds.shopDomain);
  if (!response.ok) throw statusError(response, creds.shopDomain, what, { notFoundIsUnknownShop: true });
  return parseWith(webhookListSchema, parseJsonBody(text, creds.shopDomain, what), creds.shopDomain, what)
    .webhooks;
}

/**
 * Subscribes `address` to `topic`. Shopify refuses a second identical subscription with 422 "has
 * already been taken": that counts as success (a concurrent registration won), and the existing
 * subscription is returned.
 */
export async function createWebhook(
  config: AppConfig,
  creds: ShopCredentials,
  topic: string,
  address: string,
): Promise<WebhookSubscription> {
  const what = `subscribing to ${topic}`;
  const response = await adminFetch(config, creds, {
    method: 'POST',
    path: versionedPath(config, 'webhooks.json'),
    body: { webhook: { topic, address, format: 'json' } },
  });
  const text = await readText(response, creds.shopDomain);
  if (response.status === 422) {
    const existing = (await listWebhooks(config, creds)).find(
      (w) => w.topic === topic && w.address === address,
    );
    if (existing) return existing;
    let detail = '';
    try {
      detail = `: ${JSON.stringify((JSON.parse(text) as { errors?: unknown }).errors ?? '')}`;
    } catch {
      // not JSON; the status says enough
    }
    throw new ShopifyAdminError(
      'api_error',
      `Shopify refused the ${topic} subscription for ${address}${redactToken(detail, creds.accessToken)}. The webhook URL must be a public HTTPS address.`,
      422,
    );
  }
  if (!response.ok) throw statusError(response, creds.shopDomain, what, { notFoundIsUnknownShop: true });
  return parseWith(webhookCreatedSchema, parseJsonBody(text, creds.shopDomain, what), creds.shopDomain, what)
    .webhook;
}

/** Removes one subscription (used by tests and by an owner cleaning up an old address). */
export async function deleteWebhook(config: AppConfig, creds: ShopCredentials, id: string): Promise<void> {
  if (!/^\d+$/.test(id)) throw new Error('webhook id must be digits');
  const what = 'deleting a webhook subscription';
  const response = await adminFetch(config, creds, {
    method: 'DELETE',
    path: versionedPath(config, `webhooks/${id}.json`),
  });
  await readText(response, creds.shopDomain);
  if (!response.ok && response.status !== 404) throw statusError(response, creds.shopDomain, what);
}

/**
 * Registers every topic the product needs at `address`, idempotently: topics already subscribed at
 * this address are left alone, the others are created. Subscriptions of these topics at other
 * addresses are not touched. Returns one subscription per topic, in WEBHOOK_TOPICS order.
 */
export async function registerWebhooks(
  config: AppConfig,
  creds: ShopCredentials,
  address: string,
): Promise<WebhookSubscription[]> {
  const existing = await listWebhooks(config, creds);
  const result: WebhookSubscription[] = [];
  for (const topic of WEBHOOK_TOPICS) {
    const found = existing.find((w) => w.topic === topic && w.address === address);
    result.push(found ?? (await createWebhook(config, creds, topic, address)));
  }
  return result;
}

/**
 * The subscription health check: which topics are subscribed at `address`; the missing ones (Shopify
 * deletes a subscription after repeated delivery failures; someone may have removed it) are
 * re-created.
 */
export async function ensureWebhookSubscriptions(
  config: AppConfig,
  creds: ShopCredentials,
  address: string,
): Promise<SubscriptionHealth> {
  const existing = await listWebhooks(config, creds);
  const health: SubscriptionHealth = [];
  for (const topic of WEBHOOK_TOPICS) {
    const present = existing.some((w) => w.topic === topic && w.address === address);
    if (!present) await createWebhook(config, creds, topic, address);
    health.push({ topic, present, recreated: !present });
  }
  return health;
}
