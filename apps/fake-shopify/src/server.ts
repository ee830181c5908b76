/**
 * A local fake of Shopify, a real HTTP server on a port of its own, for tests, the end-to-end runs
 * and the demo. It speaks what the app uses, with Shopify's status codes and body shapes:
 *
 *   POST /admin/api/<v>/graphql.json        the GraphQL Admin API (graphql.ts), cost-based throttling
 *   POST /admin/oauth/access_token          client_credentials, authorization_code (expiring=1),
 *                                           refresh_token with rotation (oauth.ts); grants counted
 *   GET  /admin/oauth/authorize             the merchant's grant screen (Install / Cancel)
 *   anything else, REST included            404: nothing may still rely on the REST Admin API
 *
 * Unknown shop → 404; a wrong, expired or revoked X-Shopify-Access-Token → 401 with Shopify's body.
 * Responses carry X-Shopify-API-Version (the version asked for, or the one set by setVersionAnswer).
 *
 * Addressing: the shop is the first path segment, so point the app at it with
 *   SHOPIFY_ADMIN_BASE_URL=http://127.0.0.1:<port>/{shop}
 * A request whose path starts with /admin instead uses its Host header as the shop.
 * Unlike Shopify it accepts http:// webhook addresses, for local demos.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signShopifyWebhook } from '@crm/shopify';
import { handleGraphql } from './graphql.ts';
import { createTokenAuthority, INVALID_TOKEN_BODY, type Reply } from './oauth.ts';
import type {
  FakeRequestLog,
  FakeShop,
  FakeShopInput,
  FakeShopify,
  FakeShopifyOptions,
  FakeWebhook,
  TokenLifetimes,
} from './types.ts';

export type {
  FakeOAuthApp,
  FakeOwnApp,
  FakeRequestLog,
  FakeShop,
  FakeShopInput,
  FakeShopify,
  FakeShopifyOptions,
  FakeWebhook,
  GrantCounts,
  TokenLifetimes,
} from './types.ts';

export const DEFAULT_FAKE_SCOPES = ['read_orders', 'read_customers', 'read_products'];
const DEFAULT_LIFETIMES: TokenLifetimes = {
  clientCredentialsSeconds: 86_399,
  accessSeconds: 3_600,
  refreshSeconds: 7_776_000,
};

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Form-encoded or JSON parameters of a token request. */
function grantParams(body: string, contentType: string | undefined): Record<string, string> {
  if (contentType?.includes('application/json')) {
    try {
      const parsed = JSON.parse(body) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(body));
}

function makeShop(input: FakeShopInput): FakeShop {
  const webhooks = new Map<string, FakeWebhook>();
  return {
    domain: input.domain.toLowerCase(),
    name: input.name ?? input.domain.split('.')[0] ?? input.domain,
    tokens: new Set(input.tokens ?? []),
    scopes: input.scopes ?? [...DEFAULT_FAKE_SCOPES],
    orders: input.orders ?? [],
    webhooks,
    ownApps: new Map((input.ownApps ?? []).map((a) => [a.clientId, a])),
    installed: new Set(),
    protectedCustomerData: 'granted',
    dropWebhook: (topic) => {
      for (const [key, w] of webhooks) {
        if (w.topic === topic) return webhooks.delete(key);
      }
      return false;
    },
  };
}

export async function startFakeShopify(options: FakeShopifyOptions = {}): Promise<FakeShopify> {
  const shops = new Map<string, FakeShop>();
  const requests: FakeRequestLog[] = [];
  const lifetimes: TokenLifetimes = { ...DEFAULT_LIFETIMES, ...options.tokenLifetimes };
  const authority = createTokenAuthority({ oauthApp: options.oauthApp ?? null, lifetimes });
  const stats = { graphql: 0, throttled: 0, grants: authority.grants, rest: 0 };
  const maximumAvailable = options.throttle?.maximumAvailable ?? 1000;
  const restoreRate = options.throttle?.restoreRate ?? 100;
  let latencyMs = options.latencyMs ?? 0;
  let forcedThrottles = 0;
  const throttledOrdinals = new Set<number>();
  let failures = { left: 0, status: 503 };
  let loseGrant = false;
  let expireAfterGraphql: number | null = null;
  let versionAnswer: { version: string | null; deprecatedReason: string | null } = {
    version: null,
    deprecatedReason: null,
  };
  let nextWebhookId = 1_100_000_000_000_000_001n; // above 2^53, like the ids the client must not round
  // One bucket per shop (Shopify: per app and store).
  const buckets = new Map<string, { available: number; at: number }>();

  function addShop(input: FakeShopInput): FakeShop {
    const shop = makeShop(input);
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

  function send(res: ServerResponse, reply: Reply, extraHeaders: Record<string, string> = {}): void {
    const headers: Record<string, string> = { ...extraHeaders, ...reply.headers };
    if (reply.html !== undefined) {
      res.writeHead(reply.status, { ...headers, 'content-type': 'text/html; charset=utf-8' });
      res.end(reply.html);
      return;
    }
    res.writeHead(reply.status, { ...headers, 'content-type': 'application/json; charset=utf-8' });
    res.end(reply.body === null ? '' : JSON.stringify(reply.body));
  }

  function graphql(shop: FakeShop, scopes: string[], apiVersion: string, text: string): Reply {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text) as unknown;
    } catch {
      return { status: 400, body: { errors: { query: 'Required parameter missing or invalid' } } };
    }
    stats.graphql++;
    let drain = throttledOrdinals.delete(stats.graphql);
    if (!drain && forcedThrottles > 0) {
      forcedThrottles--;
      drain = true;
    }
    const result = handleGraphql(
      {
        shop,
        scopes,
        apiVersion,
        nextWebhookId: () => String(nextWebhookId++),
        bucket: bucketOf(shop.domain),
        drain,
        maximumAvailable,
        restoreRate,
      },
      parsed,
    );
    if (result.throttled) stats.throttled++;
    if (expireAfterGraphql !== null && stats.graphql >= expireAfterGraphql) {
      expireAfterGraphql = null;
      authority.expireAll();
    }
    return { status: result.status, body: result.body };
  }

  async function route(req: IncomingMessage, res: ServerResponse, domain: string | null, path: string) {
    const method = req.method ?? 'GET';
    const shop = domain ? shops.get(domain) : undefined;
    if (!shop) return { status: 404, body: { errors: 'Not Found' } } satisfies Reply;
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    if (path === '/admin/oauth/authorize' && method === 'GET')
      return authority.authorizeScreen(shop, url.searchParams);
    if (
      (path === '/admin/oauth/authorize/approve' || path === '/admin/oauth/authorize/deny') &&
      method === 'POST'
    ) {
      return authority.decide(shop, new URLSearchParams(await readBody(req)), path.endsWith('/approve'));
    }
    if (path === '/admin/oauth/access_token' && method === 'POST') {
      const reply = authority.grant(shop, grantParams(await readBody(req), req.headers['content-type']));
      if (loseGrant) {
        loseGrant = false;
        res.destroy();
        return null;
      }
      return reply;
    }
    const versioned = /^\/admin\/api\/([^/]+)\/graphql\.json$/.exec(path);
    if (!versioned || method !== 'POST') {
      if (path.startsWith('/admin/') && path.endsWith('.json')) stats.rest++;
      return { status: 404, body: { errors: 'Not Found' } } satisfies Reply;
    }
    const presented = req.headers['x-shopify-access-token'];
    const scopes = typeof presented === 'string' ? authority.authenticate(shop, presented) : null;
    if (!scopes) return { status: 401, body: INVALID_TOKEN_BODY } satisfies Reply;
    return graphql(shop, scopes, versioned[1] ?? '', await readBody(req));
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://fake.invalid');
    const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const domain =
      segments[0] === 'admin'
        ? (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase() || null
        : (segments.shift()?.toLowerCase() ?? null);
    const path = `/${segments.join('/')}`;
    if (failures.left > 0) {
      failures.left--;
      send(res, { status: failures.status, body: { errors: 'Service Unavailable (fake Shopify incident)' } });
      return { shop: domain, status: failures.status };
    }
    const reply = await route(req, res, domain, path);
    if (!reply) return { shop: domain, status: 0 };
    const asked = /^\/admin\/api\/([^/]+)\//.exec(path)?.[1];
    const headers: Record<string, string> = {};
    if (asked) headers['x-shopify-api-version'] = versionAnswer.version ?? asked;
    if (asked && versionAnswer.deprecatedReason)
      headers['x-shopify-api-deprecated-reason'] = versionAnswer.deprecatedReason;
    send(res, reply, headers);
    return { shop: domain, status: reply.status };
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
      if (!res.headersSent) send(res, { status: 500, body: { errors: String(error) } });
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  const shopOf = (domain: string) => {
    const s = shops.get(domain.toLowerCase());
    if (!s) throw new Error(`fake Shopify: no shop ${domain}`);
    return s;
  };

  async function uninstall(domain: string, clientId: string): Promise<void> {
    const shop = shopOf(domain);
    const secret = shop.ownApps.get(clientId)?.clientSecret ?? options.oauthApp?.clientSecret ?? null;
    authority.revoke(shop, clientId);
    const sub = [...shop.webhooks.values()].find((w) => w.topic === 'app/uninstalled');
    if (!sub || !secret) return;
    const body = JSON.stringify({
      id: 548_380_009,
      name: shop.name,
      domain: shop.domain,
      myshopify_domain: shop.domain,
    });
    await fetch(sub.address, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': 'app/uninstalled',
        'x-shopify-hmac-sha256': signShopifyWebhook(body, secret),
        'x-shopify-shop-domain': shop.domain,
        'x-shopify-webhook-id': randomUUID(),
        'x-shopify-event-id': randomUUID(),
        'x-shopify-triggered-at': new Date().toISOString(),
        'x-shopify-api-version': sub.api_version,
      },
      body,
    });
  }

  return {
    url,
    baseUrl: `${url}/{shop}`,
    port,
    shops,
    shop: shopOf,
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
    setTokenLifetimes: (l) => {
      Object.assign(lifetimes, l);
    },
    expireAccessTokens: () => authority.expireAll(),
    expireAccessTokensAfter: (ordinal) => {
      expireAfterGraphql = ordinal;
    },
    loseNextGrantResponse: () => {
      loseGrant = true;
    },
    setVersionAnswer: (answer) => {
      versionAnswer = {
        version: answer.version === undefined ? versionAnswer.version : answer.version,
        deprecatedReason:
          answer.deprecatedReason === undefined ? versionAnswer.deprecatedReason : answer.deprecatedReason,
      };
    },
    uninstall,
    requests,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
