/**
 * The Shopify Admin API client the owner-facing procedures call: connection test and webhook
 * subscriptions, all through the GraphQL Admin API (REST is legacy: nothing here calls it). Base URL
 * from `config.shopifyAdminBaseUrl` (`{shop}` = shop domain), so tests and the demo talk to the
 * local fake (the @crm/fake-shopify workspace, apps/fake-shopify).
 *
 * Only the order topics and app/uninstalled are subscribed through the API: the mandatory compliance
 * topics (customers/data_request, customers/redact, shop/redact) are configured for the app in its
 * configuration (`compliance_topics` in shopify.app.toml / the Dev Dashboard), never through this API.
 */
import { z } from 'zod';
import type { AppConfig } from '../config.ts';
import { adminGraphql, type GraphqlOptions } from './graphql.ts';
import { type ShopCredentials, ShopifyAdminError } from './http.ts';

export type { ShopCredentials, TokenSource } from './http.ts';
export { ShopifyAdminError } from './http.ts';

export type ConnectionFailureReason = 'bad_token' | 'unknown_shop' | 'missing_scope' | 'unreachable';
export type ConnectionTestResult =
  | {
      ok: true;
      shopName: string;
      scopes: string[];
      /** False when Shopify withholds customer names, emails, phones and addresses from the app. */
      protectedCustomerData: boolean;
      warnings: string[];
    }
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

/** Where an owner asks Shopify for protected customer data, in words for the integration page. */
export const PROTECTED_DATA_HINT =
  'Shopify withholds customer names, emails, phone numbers and addresses from this app, so orders arrive without customer details. In the Dev Dashboard, open the app → Settings (or API access) → Protected customer data, request access to "Protected customer data" and to the Name, Email, Phone and Address fields, then release a new app version.';

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

const SHOP_IDENTITY_QUERY = `query ShopIdentity {
  shop { name myshopifyDomain }
  currentAppInstallation { accessScopes { handle } }
}`;
const shopIdentitySchema = z.object({
  shop: z.object({ name: z.string(), myshopifyDomain: z.string() }),
  currentAppInstallation: z.object({ accessScopes: z.array(z.object({ handle: z.string() })) }),
});

/** Asks for one order's customer name and email: withheld protected data answers ACCESS_DENIED on it. */
const PROTECTED_DATA_QUERY = `query ProtectedCustomerDataProbe {
  orders(first: 1, reverse: true) { nodes { customer { firstName defaultEmailAddress { emailAddress } } } }
}`;
const protectedProbeSchema = z.object({
  orders: z.object({ nodes: z.array(z.object({ customer: z.unknown() })) }),
});

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
 * Who is this store, what may the app do (`shop`, `currentAppInstallation.accessScopes`), and does
 * Shopify give it protected customer data. Never throws for an Admin API problem: the reason and an
 * owner-readable message come back instead.
 */
export async function testConnection(
  config: AppConfig,
  creds: ShopCredentials,
  options: { timeoutMs?: number } = {},
): Promise<ConnectionTestResult> {
  const warnings = new Set<string>();
  const gqlOptions: GraphqlOptions = {
    timeoutMs: options.timeoutMs ?? CONNECTION_TEST_TIMEOUT_MS,
    maxThrottleRetries: 2,
    maxWaitMs: 2_000,
    onApiWarning: (w) => warnings.add(w),
  };
  try {
    const { data } = await adminGraphql(
      config,
      creds,
      { query: SHOP_IDENTITY_QUERY, what: 'reading the shop', data: shopIdentitySchema },
      gqlOptions,
    );
    const scopes = data.currentAppInstallation.accessScopes.map((s) => s.handle);
    const shopName = data.shop.name;
    const missing = REQUIRED_SCOPES.filter((s) => !hasScope(scopes, s));
    if (missing.length > 0) {
      return {
        ok: false,
        reason: 'missing_scope',
        message: `The app on ${shopName} lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}. Select ${missing.length > 1 ? 'them' : 'it'} in the app's access scopes (Dev Dashboard → the app → Versions), release the version and approve it on the store, then test again.`,
      };
    }
    const probe = await adminGraphql(
      config,
      creds,
      {
        query: PROTECTED_DATA_QUERY,
        what: 'checking access to customer data',
        data: protectedProbeSchema,
        partialCodes: ['ACCESS_DENIED'],
      },
      gqlOptions,
    );
    const protectedCustomerData = !probe.partialErrors.some((e) => e.code === 'ACCESS_DENIED');
    return { ok: true, shopName, scopes, protectedCustomerData, warnings: [...warnings] };
  } catch (error) {
    if (error instanceof ShopifyAdminError) {
      const token = 'accessToken' in creds ? creds.accessToken : '';
      return { ok: false, reason: failureReason(error), message: redactToken(error.message, token) };
    }
    throw error;
  }
}

// --- Webhook subscriptions ------------------------------------------------------------------------

/** `id` is the subscription's numeric id (the tail of its gid), exact above 2^53. */
export type WebhookSubscription = { id: string; topic: string; address: string };
export type SubscriptionHealth = { topic: string; present: boolean; recreated: boolean }[];

/** orders/create ↔ ORDERS_CREATE (the first underscore is the slash). */
const topicToEnum = (topic: string) => topic.toUpperCase().replace('/', '_');
const topicFromEnum = (value: string) => value.toLowerCase().replace('_', '/');
const GID = /^gid:\/\/shopify\/WebhookSubscription\/(\d+)$/;

const subscriptionNode = z
  .object({ id: z.string().regex(GID), topic: z.string(), uri: z.string() })
  .transform((n) => ({
    id: GID.exec(n.id)?.[1] ?? n.id,
    topic: topicFromEnum(n.topic),
    address: n.uri,
  }));
const userErrors = z.array(
  z.object({ field: z.array(z.string()).nullable().optional(), message: z.string() }),
);

const LIST_QUERY = `query WebhookSubscriptions($after: String) {
  webhookSubscriptions(first: 100, after: $after) { nodes { id topic uri } pageInfo { hasNextPage endCursor } }
}`;
const listSchema = z.object({
  webhookSubscriptions: z.object({
    nodes: z.array(subscriptionNode),
    pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() }),
  }),
});

const CREATE_MUTATION = `mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}`;
const createSchema = z.object({
  webhookSubscriptionCreate: z.object({ webhookSubscription: subscriptionNode.nullable(), userErrors }),
});

const DELETE_MUTATION = `mutation WebhookSubscriptionDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } }
}`;
const deleteSchema = z.object({
  webhookSubscriptionDelete: z.object({ deletedWebhookSubscriptionId: z.string().nullable(), userErrors }),
});

type SubscriptionPage = z.infer<typeof listSchema>['webhookSubscriptions'];

async function listPage(
  config: AppConfig,
  creds: ShopCredentials,
  after: string | null,
  options: GraphqlOptions,
): Promise<SubscriptionPage> {
  const { data } = await adminGraphql(
    config,
    creds,
    { query: LIST_QUERY, variables: { after }, what: 'listing webhook subscriptions', data: listSchema },
    options,
  );
  return data.webhookSubscriptions;
}

/** Every webhook subscription of this app on the store. */
export async function listWebhooks(
  config: AppConfig,
  creds: ShopCredentials,
  options: GraphqlOptions = {},
): Promise<WebhookSubscription[]> {
  const all: WebhookSubscription[] = [];
  let after: string | null = null;
  for (;;) {
    const page: SubscriptionPage = await listPage(config, creds, after, options);
    all.push(...page.nodes);
    if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return all;
    after = page.pageInfo.endCursor;
  }
}

/**
 * Subscribes `address` to `topic`. Shopify refuses a second identical subscription ("has already
 * been taken"): that counts as success (a concurrent registration won), and the existing one is
 * returned.
 */
export async function createWebhook(
  config: AppConfig,
  creds: ShopCredentials,
  topic: string,
  address: string,
  options: GraphqlOptions = {},
): Promise<WebhookSubscription> {
  const { data } = await adminGraphql(
    config,
    creds,
    {
      query: CREATE_MUTATION,
      variables: { topic: topicToEnum(topic), webhookSubscription: { uri: address, format: 'JSON' } },
      what: `subscribing to ${topic}`,
      data: createSchema,
    },
    options,
  );
  const created = data.webhookSubscriptionCreate;
  if (created.webhookSubscription) return created.webhookSubscription;
  const existing = (await listWebhooks(config, creds, options)).find(
    (w) => w.topic === topic && w.address === address,
  );
  if (existing) return existing;
  const detail = created.userErrors.map((e) => e.message).join('; ');
  throw new ShopifyAdminError(
    'api_error',
    `Shopify refused the ${topic} subscription for ${address}${detail ? `: ${detail}` : ''}. The webhook URL must be a public HTTPS address.`,
  );
}

/** Removes one subscription by its numeric id (used by tests and by an owner cleaning up an old address). */
export async function deleteWebhook(
  config: AppConfig,
  creds: ShopCredentials,
  id: string,
  options: GraphqlOptions = {},
): Promise<void> {
  if (!/^\d+$/.test(id)) throw new Error('webhook id must be digits');
  await adminGraphql(
    config,
    creds,
    {
      query: DELETE_MUTATION,
      variables: { id: `gid://shopify/WebhookSubscription/${id}` },
      what: 'deleting a webhook subscription',
      data: deleteSchema,
    },
    options,
  );
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
  options: GraphqlOptions = {},
): Promise<WebhookSubscription[]> {
  const existing = await listWebhooks(config, creds, options);
  const result: WebhookSubscription[] = [];
  for (const topic of WEBHOOK_TOPICS) {
    const found = existing.find((w) => w.topic === topic && w.address === address);
    result.push(found ?? (await createWebhook(config, creds, topic, address, options)));
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
  options: GraphqlOptions = {},
): Promise<SubscriptionHealth> {
  const existing = await listWebhooks(config, creds, options);
  const health: SubscriptionHealth = [];
  for (const topic of WEBHOOK_TOPICS) {
    const present = existing.some((w) => w.topic === topic && w.address === address);
    if (!present) await createWebhook(config, creds, topic, address, options);
    health.push({ topic, present, recreated: !present });
  }
  return health;
}
