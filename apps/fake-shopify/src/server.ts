/**
 * A local fake of the Shopify Admin API, a real HTTP server on a port of its own, for tests, the
 * end-to-end runs and the demo. It implements what the client uses, with Shopify's status codes and
 * body shapes:
 *
 *   GET    /admin/api/<v>/shop.json                 {shop:{name,...}}
 *   GET    /admin/oauth/access_scopes.json          {access_scopes:[{handle}]}
 *   GET    /admin/api/<v>/webhooks.json             {webhooks:[...]}   (ids above 2^53, raw numbers)
 *   POST   /admin/api/<v>/webhooks.json             201 {webhook}; 422 for a duplicate or bad topic
 *   DELETE /admin/api/<v>/webhooks/<id>.json        200 {}
 *   POST   /admin/api/<v>/graphql.json              the two order operations of @crm/shopify/admin-graphql
 *                                                   (ReconcileOrders, OrderLineItems), with a
 *                                                   cost-based leaky bucket and THROTTLED answers
 *
 * Unknown shop → 404; wrong X-Shopify-Access-Token → 401; no read_orders scope → ACCESS_DENIED.
 *
 * Addressing: the shop is the first path segment, so point the app at it with
 *   SHOPIFY_ADMIN_BASE_URL=http://127.0.0.1:<port>/{shop}
 * (requests look like http://127.0.0.1:<port>/demo-store.myshopify.com/admin/api/2025-10/shop.json).
 * A request whose path starts with /admin instead uses its Host header as the shop.
 *
 * It understands only the GraphQL documents this app sends (it dispatches on the operation name); it
 * is not a GraphQL server. Unlike Shopify it accepts http:// webhook addresses, for local demos.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GqlLineItem, GqlOrder } from '@crm/shopify/admin-graphql';
import { z } from 'zod';

export type FakeWebhook = {
  id: string;
  topic: string;
  address: string;
  format: string;
  api_version: string;
  created_at: string;
  updated_at: string;
};

export type FakeShopInput = {
  domain: string;
  name?: string;
  /** Access tokens the shop accepts. */
  tokens?: string[];
  scopes?: string[];
  /** Orders in GraphQL shape; orderFromRest() builds them from REST/webhook JSON. */
  orders?: GqlOrder[];
};

export type FakeShop = {
  domain: string;
  name: string;
  tokens: Set<string>;
  scopes: string[];
  orders: GqlOrder[];
  webhooks: Map<string, FakeWebhook>;
  /** Deletes the subscription of a topic, as Shopify does after repeated delivery failures. */
  dropWebhook: (topic: string) => boolean;
};

export type FakeShopifyOptions = {
  port?: number;
  host?: string;
  shops?: FakeShopInput[];
  /** The GraphQL cost bucket: Shopify's standard plan restores 100 points/s. */
  throttle?: { maximumAvailable?: number; restoreRate?: number };
  /** Delay before every answer (to make the client time out). */
  latencyMs?: number;
};

export type FakeRequestLog = { method: string; shop: string | null; path: string; status: number };

export type FakeShopify = {
  /** http://host:port */
  url: string;
  /** The value for SHOPIFY_ADMIN_BASE_URL: http://host:port/{shop} */
  baseUrl: string;
  port: number;
  shops: Map<string, FakeShop>;
  shop: (domain: string) => FakeShop;
  addShop: (input: FakeShopInput) => FakeShop;
  /** The next n GraphQL requests find the bucket drained (another app used it) and answer THROTTLED. */
  throttleNext: (n: number) => void;
  /** Drains the bucket before the GraphQL request with this ordinal (1 = the first this fake serves; see stats.graphql). */
  throttleRequest: (ordinal: number) => void;
  setLatency: (ms: number) => void;
  /** The next n requests (any path) answer this HTTP status, as Shopify does during an incident. */
  failNext: (n: number, status?: number) => void;
  requests: FakeRequestLog[];
  stats: { graphql: number; throttled: number };
  close: () => Promise<void>;
};

export const DEFAULT_FAKE_SCOPES = ['read_orders', 'read_customers', 'read_products'];

/** Topics Shopify lets an app subscribe to through the API (a subset; enough for the fake). */
const API_TOPICS = new Set([
  'orders/create',
  'orders/updated',
  'orders/paid',
  'orders/cancelled',
  'orders/fulfilled',
  'orders/partially_fulfilled',
  'orders/delete',
  'orders/edited',
  'app/uninstalled',
  'customers/create',
  'customers/update',
  'products/create',
  'products/update',
]);

// --- The server ------------------------------------------------------------------------------------

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

export async function startFakeShopify(options: FakeShopifyOptions = {}): Promise<FakeShopify> {
  const shops = new Map<string, FakeShop>();
  const requests: FakeRequestLog[] = [];
  const stats = { graphql: 0, throttled: 0 };
  const maximumAvailable = options.throttle?.maximumAvailable ?? 1000;
  const restoreRate = options.throttle?.restoreRate ?? 100;
  let latencyMs = options.latencyMs ?? 0;
  let forcedThrottles = 0;
  const throttledOrdinals = new Set<number>();
  let failures = { left: 0, status: 503 };
  let nextWebhookId = 1_100_000_000_000_000_001n; // above 2^53, like the ids the client must not round
  // One bucket per shop (Shopify: per app and store).
  const buckets = new Map<string, { available: number; at: number }>();

  function addShop(input: FakeShopInput): FakeShop {
    const webhooks = new Map<string, FakeWebhook>();
    const shop: FakeShop = {
      domain: input.domain.toLowerCase(),
      name: input.name ?? input.domain.split('.')[0] ?? input.domain,
      tokens: new Set(input.tokens ?? []),
      scopes: input.scopes ?? [...DEFAULT_FAKE_SCOPES],
      orders: input.orders ?? [],
      webhooks,
      dropWebhook: (topic) => {
        for (const [key, w] of webhooks) {
          if (w.topic === topic) return webhooks.delete(key);
        }
        return false;
      },
    };
    shops.set(shop.domain, shop);
    return shop;
  }
  for (const s of options.shops ?? []) addShop(s);

  function bucketOf(domain: string) {
    const now = Date.now();
    const b = buckets.get(domain) ?? { available: maximumAvailable, at: now };
    b.available = Math.min(maximumAvailable, b.available + ((now - b.at) / 1000) * restoreRate);
    b.at = now;
    buckets.set(domain, b);
    return b;
  }

  function send(res: ServerResponse, status: number, body: unknown, raw?: string): void {
    const text = raw ?? JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(text);
  }

  const webhooksJson = (list: FakeWebhook[], single: boolean): string =>
    // Ids go out as raw JSON numbers, as Shopify's REST API writes them, even above 2^53.
    JSON.stringify(single ? { webhook: list[0] } : { webhooks: list }).replace(/"id":"(\d+)"/g, '"id":$1');

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  function graphql(shop: FakeShop, body: unknown): { status: number; body: unknown } {
    stats.graphql++;
    const op = z
      .object({ query: z.string(), variables: z.record(z.string(), z.unknown()).nullable().optional() })
      .safeParse(body);
    if (!op.success)
      return { status: 400, body: { errors: { query: 'Required parameter missing or invalid' } } };
    const vars = op.data.variables ?? {};
    const isOrders = /\bquery\s+ReconcileOrders\b/.test(op.data.query);
    const isLines = /\bquery\s+OrderLineItems\b/.test(op.data.query);
    const first = intVar(vars.first, 10);
    const lines = intVar(vars.lines, 10);
    const requested = isOrders ? 2 + first * (10 + lines * 5) : 2 + first * 5;
    const bucket = bucketOf(shop.domain);
    let drain = throttledOrdinals.delete(stats.graphql);
    if (!drain && forcedThrottles > 0) {
      forcedThrottles--;
      drain = true;
    }
    if (drain) bucket.available = 0;
    const throttleStatus = () => ({
      maximumAvailable,
      currentlyAvailable: Math.floor(bucket.available),
      restoreRate,
    });
    if (bucket.available < requested) {
      stats.throttled++;
      return {
        status: 200,
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
    if (!shop.scopes.includes('read_orders') && !shop.scopes.includes('write_orders')) {
      return {
        status: 200,
        body: {
          errors: [
            {
              message: 'Access denied for orders field. Required access: `read_orders` access scope.',
              extensions: { code: 'ACCESS_DENIED' },
            },
          ],
        },
      };
    }
    let data: unknown;
    let actual = 2;
    if (isOrders) {
      const matching = shop.orders.filter(orderFilter(vars.query)).sort(compareOrders);
      const after = typeof vars.after === 'string' ? unb64(vars.after) : null;
      const start = after ? matching.findIndex((o) => o.legacyResourceId === after) + 1 : 0;
      const page = matching.slice(start, start + first);
      const nodes = page.map((o) => {
        const connection = lineConnection(o.lineItems.nodes, lines, null);
        actual += 10 + connection.nodes.length * 5;
        return { ...o, lineItems: connection };
      });
      const last = page.at(-1);
      data = {
        orders: {
          nodes,
          pageInfo: {
            hasNextPage: start + page.length < matching.length,
            endCursor: last ? b64(last.legacyResourceId) : null,
          },
        },
      };
    } else if (isLines) {
      const order = shop.orders.find((o) => o.id === vars.id);
      const connection = order
        ? lineConnection(order.lineItems.nodes, first, typeof vars.after === 'string' ? vars.after : null)
        : null;
      actual += (connection?.nodes.length ?? 0) * 5;
      data = { order: connection ? { lineItems: connection } : null };
    } else {
      return {
        status: 200,
        body: {
          errors: [
            { message: 'fake Shopify: unsupported operation (it knows ReconcileOrders and OrderLineItems)' },
          ],
        },
      };
    }
    bucket.available -= actual;
    return {
      status: 200,
      body: {
        data,
        extensions: {
          cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: throttleStatus() },
        },
      },
    };
  }

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<{ shop: string | null; status: number }> {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    let domain: string | null;
    if (segments[0] === 'admin') {
      domain = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase() || null;
    } else {
      domain = segments.shift()?.toLowerCase() ?? null;
    }
    const path = `/${segments.join('/')}`;
    const reply = (status: number, body: unknown, raw?: string) => {
      send(res, status, body, raw);
      return { shop: domain, status };
    };
    if (failures.left > 0) {
      failures.left--;
      return reply(failures.status, { errors: 'Service Unavailable (fake Shopify incident)' });
    }
    const shop = domain ? shops.get(domain) : undefined;
    if (!shop) return reply(404, { errors: 'Not Found' });
    const token = req.headers['x-shopify-access-token'];
    if (typeof token !== 'string' || !shop.tokens.has(token)) {
      return reply(401, {
        errors: '[API] Invalid API key or access token (unrecognized login or wrong password)',
      });
    }
    const method = req.method ?? 'GET';
    const body = method === 'POST' || method === 'PUT' ? await readBody(req) : '';

    if (method === 'GET' && path === '/admin/oauth/access_scopes.json') {
      return reply(200, { access_scopes: shop.scopes.map((handle) => ({ handle })) });
    }
    const versioned = /^\/admin\/api\/([^/]+)\/(.+)$/.exec(path);
    if (!versioned?.[2]) return reply(404, { errors: 'Not Found' });
    const apiVersion = versioned[1] ?? '';
    const rest = versioned[2];

    if (method === 'GET' && rest === 'shop.json') {
      return reply(200, {
        shop: {
          id: 548380009,
          name: shop.name,
          myshopify_domain: shop.domain,
          domain: shop.domain,
          currency: 'COP',
        },
      });
    }
    if (method === 'POST' && rest === 'graphql.json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body) as unknown;
      } catch {
        return reply(400, { errors: { query: 'Required parameter missing or invalid' } });
      }
      const result = graphql(shop, parsed);
      return reply(result.status, result.body);
    }
    if (rest === 'webhooks.json' && method === 'GET') {
      const topic = url.searchParams.get('topic');
      const list = [...shop.webhooks.values()].filter((w) => !topic || w.topic === topic);
      return reply(200, null, webhooksJson(list, false));
    }
    if (rest === 'webhooks.json' && method === 'POST') {
      let input: { topic?: unknown; address?: unknown; format?: unknown } = {};
      try {
        input = (JSON.parse(body) as { webhook?: typeof input }).webhook ?? {};
      } catch {
        return reply(400, { errors: 'Bad Request' });
      }
      const topic = typeof input.topic === 'string' ? input.topic : '';
      const address = typeof input.address === 'string' ? input.address : '';
      if (!API_TOPICS.has(topic)) {
        return reply(422, { errors: { topic: [`Invalid topic specified: ${topic}`] } });
      }
      if (!/^https?:\/\/[^\s]+$/.test(address)) return reply(422, { errors: { address: ['is invalid'] } });
      if ([...shop.webhooks.values()].some((w) => w.topic === topic && w.address === address)) {
        return reply(422, { errors: { address: ['for this topic has already been taken'] } });
      }
      const now = new Date().toISOString();
      const webhook: FakeWebhook = {
        id: String(nextWebhookId++),
        topic,
        address,
        format: typeof input.format === 'string' ? input.format : 'json',
        api_version: apiVersion,
        created_at: now,
        updated_at: now,
      };
      shop.webhooks.set(webhook.id, webhook);
      return reply(201, null, webhooksJson([webhook], true));
    }
    const del = /^webhooks\/(\d+)\.json$/.exec(rest);
    if (del?.[1] && method === 'DELETE') {
      if (!shop.webhooks.delete(del[1])) return reply(404, { errors: 'Not Found' });
      return reply(200, {});
    }
    return reply(404, { errors: 'Not Found' });
  }

  const server: Server = createServer((req, res) => {
    const started = async () => {
      if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
      if (res.destroyed) return;
      const { shop, status } = await handle(req, res);
      const path = new URL(req.url ?? '/', 'http://fake.invalid').pathname;
      requests.push({ method: req.method ?? 'GET', shop, path, status });
    };
    started().catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { errors: String(error) });
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  return {
    url,
    baseUrl: `${url}/{shop}`,
    port,
    shops,
    shop: (domain) => {
      const s = shops.get(domain.toLowerCase());
      if (!s) throw new Error(`fake Shopify: no shop ${domain}`);
      return s;
    },
    addShop,
    throttleNext: (n) => {
      forcedThrottles += n;
    },
    throttleRequest: (ordinal) => {
      throttledOrdinals.add(ordinal);
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    failNext: (n, status = 503) => {
      failures = { left: n, status };
    },
    requests,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
