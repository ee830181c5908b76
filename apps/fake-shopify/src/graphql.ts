/**
 * The fake's GraphQL Admin API: it dispatches on the operation name of the documents this app sends
 * (it is not a GraphQL server): ShopIdentity, ProtectedCustomerDataProbe, WebhookSubscriptions,
 * WebhookSubscriptionCreate, WebhookSubscriptionDelete, ReconcileOrders, OrderLineItems. Every
 * operation is priced against a cost-based leaky bucket and answers THROTTLED when it is empty.
 */
import type { GqlLineItem, GqlOrder } from '@crm/shopify/admin-graphql';
import { API_SUBSCRIBABLE_TOPICS } from '@crm/shopify/topics';
import { z } from 'zod';
import type { FakeShop, FakeWebhook } from './types.ts';

const b64 = (v: string) => Buffer.from(v, 'utf8').toString('base64url');
const unb64 = (v: string) => Buffer.from(v, 'base64url').toString('utf8');

function compareOrders(a: GqlOrder, b: GqlOrder): number {
  const t = Date.parse(a.updatedAt) - Date.parse(b.updatedAt);
  if (t !== 0) return t;
  const x = BigInt(a.legacyResourceId);
  const y = BigInt(b.legacyResourceId);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `updated_at:>='2026-01-01T00:00:00.000Z'` (also `>` and unquoted) → a predicate. */
function orderFilter(query: unknown): (o: GqlOrder) => boolean {
  if (typeof query !== 'string' || query.trim() === '') return () => true;
  const m = /updated_at:(>=|>)'?([^'\s]+)'?/.exec(query);
  if (!m?.[2]) return () => true;
  const at = Date.parse(m[2]);
  return m[1] === '>=' ? (o) => Date.parse(o.updatedAt) >= at : (o) => Date.parse(o.updatedAt) > at;
}

function lineConnection(lines: GqlLineItem[], first: number, after: string | null) {
  const start = after ? Number(unb64(after)) + 1 : 0;
  const nodes = lines.slice(start, start + first);
  const last = start + nodes.length - 1;
  return {
    nodes,
    pageInfo: { hasNextPage: last < lines.length - 1, endCursor: nodes.length ? b64(String(last)) : null },
  };
}

const intVar = (v: unknown, fallback: number, max = 250) =>
  typeof v === 'number' && Number.isInteger(v) && v > 0 ? Math.min(v, max) : fallback;

/** Topics Shopify lets an app subscribe to through the API (@crm/shopify's list; a subset of Shopify's). */
const API_TOPICS = new Set(API_SUBSCRIBABLE_TOPICS);

/** ORDERS_CREATE ↔ orders/create (the first underscore is the slash). */
export const topicFromEnum = (value: string) => value.toLowerCase().replace('_', '/');
export const topicToEnum = (topic: string) => topic.toUpperCase().replace('/', '_');
const gid = (id: string) => `gid://shopify/WebhookSubscription/${id}`;
const subscriptionNode = (w: FakeWebhook) => ({ id: gid(w.id), topic: topicToEnum(w.topic), uri: w.address });

const PROTECTED_MESSAGE =
  'This app is not approved to access the Customer object. See https://shopify.dev/docs/apps/launch/protected-customer-data for more details.';

/** A customer with the protected fields (name, email, phone, address) withheld, as Shopify answers. */
function withheldCustomer(o: GqlOrder): GqlOrder {
  return {
    ...o,
    email: null,
    phone: null,
    customer: o.customer
      ? {
          ...o.customer,
          firstName: null,
          lastName: null,
          defaultEmailAddress: null,
          defaultPhoneNumber: null,
          defaultAddress: null,
        }
      : null,
    billingAddress: null,
    shippingAddress: null,
  };
}

export type GraphqlContext = {
  shop: FakeShop;
  scopes: string[];
  apiVersion: string;
  nextWebhookId: () => string;
  /** Available points of the shop's bucket, after the restore since its last use. */
  bucket: { available: number };
  drain: boolean;
  maximumAvailable: number;
  restoreRate: number;
};

type Answer = { data: unknown; cost: number; errors?: unknown[] };
const OPERATION = /\b(query|mutation)\s+([A-Za-z]+)\b/;

function ordersOps(ctx: GraphqlContext, op: string, vars: Record<string, unknown>): Answer | null {
  const { shop } = ctx;
  const withheld = shop.protectedCustomerData === 'withheld';
  if (op === 'ReconcileOrders') {
    const first = intVar(vars.first, 10);
    const lines = intVar(vars.lines, 10);
    const matching = shop.orders.filter(orderFilter(vars.query)).sort(compareOrders);
    const after = typeof vars.after === 'string' ? unb64(vars.after) : null;
    const start = after ? matching.findIndex((o) => o.legacyResourceId === after) + 1 : 0;
    const page = matching.slice(start, start + first);
    let cost = 2;
    const nodes = page.map((o) => {
      const connection = lineConnection(o.lineItems.nodes, lines, null);
      cost += 10 + connection.nodes.length * 5;
      return { ...(withheld ? withheldCustomer(o) : o), lineItems: connection };
    });
    const last = page.at(-1);
    const pageInfo = {
      hasNextPage: start + page.length < matching.length,
      endCursor: last ? b64(last.legacyResourceId) : null,
    };
    // Shopify returns the withheld fields as null without failing the query.
    return { data: { orders: { nodes, pageInfo } }, cost };
  }
  if (op === 'OrderLineItems') {
    const order = shop.orders.find((o) => o.id === vars.id);
    const connection = order
      ? lineConnection(
          order.lineItems.nodes,
          intVar(vars.first, 10),
          typeof vars.after === 'string' ? vars.after : null,
        )
      : null;
    return {
      data: { order: connection ? { lineItems: connection } : null },
      cost: 2 + (connection?.nodes.length ?? 0) * 5,
    };
  }
  if (op === 'ProtectedCustomerDataProbe') {
    const nodes = [...shop.orders]
      .sort(compareOrders)
      .slice(-1)
      .map((o) => ({
        customer:
          withheld || !o.customer
            ? null
            : {
                firstName: o.customer.firstName,
                defaultEmailAddress: o.customer.defaultEmailAddress ?? null,
              },
      }));
    const errors = withheld
      ? [
          {
            message: PROTECTED_MESSAGE,
            path: ['orders', 'nodes', 0, 'customer'],
            extensions: { code: 'ACCESS_DENIED' },
          },
        ]
      : undefined;
    return { data: { orders: { nodes } }, cost: 3, ...(errors ? { errors } : {}) };
  }
  return null;
}

function webhookOps(ctx: GraphqlContext, op: string, vars: Record<string, unknown>): Answer | null {
  const { shop } = ctx;
  if (op === 'WebhookSubscriptions') {
    return {
      data: {
        webhookSubscriptions: {
          nodes: [...shop.webhooks.values()].map(subscriptionNode),
          pageInfo: { hasNextPage: false, endCursor: null },
        },
      },
      cost: 12,
    };
  }
  if (op === 'WebhookSubscriptionCreate') {
    const topic = typeof vars.topic === 'string' ? topicFromEnum(vars.topic) : '';
    const input = (vars.webhookSubscription ?? {}) as { uri?: unknown; format?: unknown };
    const uri = typeof input.uri === 'string' ? input.uri : '';
    const userErrors: { field: string[]; message: string }[] = [];
    if (!API_TOPICS.has(topic))
      userErrors.push({ field: ['topic'], message: `Invalid topic specified: ${String(vars.topic)}` });
    else if (!/^https?:\/\/[^\s]+$/.test(uri))
      userErrors.push({ field: ['webhookSubscription', 'uri'], message: 'Address is invalid' });
    else if ([...shop.webhooks.values()].some((w) => w.topic === topic && w.address === uri)) {
      userErrors.push({
        field: ['webhookSubscription', 'uri'],
        message: 'Address for this topic has already been taken',
      });
    }
    if (userErrors.length)
      return { data: { webhookSubscriptionCreate: { webhookSubscription: null, userErrors } }, cost: 10 };
    const now = new Date().toISOString();
    const webhook: FakeWebhook = {
      id: ctx.nextWebhookId(),
      topic,
      address: uri,
      format: 'json',
      api_version: ctx.apiVersion,
      created_at: now,
      updated_at: now,
    };
    shop.webhooks.set(webhook.id, webhook);
    return {
      data: { webhookSubscriptionCreate: { webhookSubscription: subscriptionNode(webhook), userErrors: [] } },
      cost: 10,
    };
  }
  if (op === 'WebhookSubscriptionDelete') {
    const id = typeof vars.id === 'string' ? /\/(\d+)$/.exec(vars.id)?.[1] : undefined;
    if (!id || !shop.webhooks.delete(id)) {
      return {
        data: {
          webhookSubscriptionDelete: {
            deletedWebhookSubscriptionId: null,
            userErrors: [{ field: ['id'], message: 'Webhook subscription does not exist' }],
          },
        },
        cost: 10,
      };
    }
    return {
      data: { webhookSubscriptionDelete: { deletedWebhookSubscriptionId: gid(id), userErrors: [] } },
      cost: 10,
    };
  }
  return null;
}

function answer(
  ctx: GraphqlContext,
  op: string,
  vars: Record<string, unknown>,
): Answer | { denied: string } | null {
  const can = (scope: string) =>
    ctx.scopes.includes(scope) || ctx.scopes.includes(scope.replace('read_', 'write_'));
  if (op === 'ShopIdentity') {
    return {
      data: {
        shop: { name: ctx.shop.name, myshopifyDomain: ctx.shop.domain },
        currentAppInstallation: { accessScopes: ctx.scopes.map((handle) => ({ handle })) },
      },
      cost: 2,
    };
  }
  if (
    ['ReconcileOrders', 'OrderLineItems', 'ProtectedCustomerDataProbe'].includes(op) &&
    !can('read_orders')
  ) {
    return { denied: 'Access denied for orders field. Required access: `read_orders` access scope.' };
  }
  return ordersOps(ctx, op, vars) ?? webhookOps(ctx, op, vars);
}

/** Price of an operation before it runs (Shopify's requestedQueryCost). */
function requestedCost(op: string, vars: Record<string, unknown>): number {
  if (op === 'ReconcileOrders') return 2 + intVar(vars.first, 10) * (10 + intVar(vars.lines, 10) * 5);
  if (op === 'OrderLineItems') return 2 + intVar(vars.first, 10) * 5;
  return 10;
}

/** One POST graphql.json: { status, body } as Shopify would answer it. */
export function handleGraphql(
  ctx: GraphqlContext,
  body: unknown,
): { status: number; body: unknown; throttled: boolean } {
  const parsed = z
    .object({ query: z.string(), variables: z.record(z.string(), z.unknown()).nullable().optional() })
    .safeParse(body);
  if (!parsed.success) {
    return {
      status: 400,
      body: { errors: { query: 'Required parameter missing or invalid' } },
      throttled: false,
    };
  }
  const vars = parsed.data.variables ?? {};
  const op = OPERATION.exec(parsed.data.query)?.[2] ?? '';
  const requested = requestedCost(op, vars);
  if (ctx.drain) ctx.bucket.available = 0;
  const throttleStatus = () => ({
    maximumAvailable: ctx.maximumAvailable,
    currentlyAvailable: Math.floor(ctx.bucket.available),
    restoreRate: ctx.restoreRate,
  });
  if (ctx.bucket.available < requested) {
    return {
      status: 200,
      throttled: true,
      body: {
        errors: [
          {
            message: 'Throttled',
            extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' },
          },
        ],
        extensions: {
          cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: throttleStatus() },
        },
      },
    };
  }
  const result = answer(ctx, op, vars);
  if (!result) {
    return {
      status: 200,
      throttled: false,
      body: { errors: [{ message: `fake Shopify: unsupported operation "${op}"` }] },
    };
  }
  if ('denied' in result) {
    return {
      status: 200,
      throttled: false,
      body: { errors: [{ message: result.denied, extensions: { code: 'ACCESS_DENIED' } }] },
    };
  }
  ctx.bucket.available -= result.cost;
  return {
    status: 200,
    throttled: false,
    body: {
      data: result.data,
      ...(result.errors ? { errors: result.errors } : {}),
      extensions: {
        cost: {
          requestedQueryCost: requested,
          actualQueryCost: result.cost,
          throttleStatus: throttleStatus(),
        },
      },
    },
  };
}
