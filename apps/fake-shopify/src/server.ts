/**
 * A local fake of Shopify, a real HTTP server on a port of its own, for tests, the end-to-end runs
 * and the demo. It speaks what the app uses, with Shopify's status codes and body shapes:
 *
 *   POST /admin/api/<v>/graphql.json        the GraphQL Admin API (graphql.ts), cost-based throttling
 *   POST /admin/oauth/access_token          client_credentials, authorization_code (expiring=1),
 *                                           refresh_token with rotation (oauth.ts); grants counted
 *   GET  /admin/oauth/authorize             the merchant's grant screen (Install / Cancel)
 *   anything else, REST included            404: nothing may still rely on the REST Admin API
 *   /__fake/...                             control endpoints (control.ts), with `control: true`
 *
 * Unknown shop → 404; a wrong, expired or revoked X-Shopify-Access-Token → 401 with Shopify's body.
 * Responses carry X-Shopify-API-Version (the version asked for, or the one set by setVersionAnswer).
 * `close()` fails when any REST request was counted (unless the test says how many it made), so
 * every suite that uses the fake checks that nothing reached a REST path.
 *
 * Addressing: the shop is the first path segment, so point the app at it with
 *   SHOPIFY_ADMIN_BASE_URL=http://127.0.0.1:<port>/{shop}
 * A request whose path starts with /admin instead uses its Host header as the shop.
 * Unlike Shopify it accepts http:// webhook addresses, for local demos.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { control } from './control.ts';
import { send } from './http-util.ts';
import { createTokenAuthority } from './oauth.ts';
import { handle } from './router.ts';
import { addShop, createState, DEFAULT_LIFETIMES, type FakeState } from './state.ts';
import type { FakeShopify, FakeShopifyOptions, TokenLifetimes } from './types.ts';
import { uninstallApp } from './uninstall.ts';

export { DEFAULT_FAKE_SCOPES } from './state.ts';
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

function listen(state: FakeState): Server {
  return createServer((req, res) => {
    const started = async () => {
      if (state.latencyMs > 0) await new Promise((r) => setTimeout(r, state.latencyMs));
      if (res.destroyed) return;
      const path = new URL(req.url ?? '/', 'http://fake.invalid').pathname;
      if (state.options.control && path.startsWith('/__fake/')) {
        send(res, await control(state, req, path));
        return;
      }
      const { shop, status } = await handle(state, req, res);
      state.requests.push({ method: req.method ?? 'GET', shop, path, status });
    };
    started().catch((error: unknown) => {
      if (!res.headersSent) send(res, { status: 500, body: { errors: String(error) } });
    });
  });
}

/** What tests switch on: throttling, latency, incidents, token expiry, version answers. */
function modes(state: FakeState) {
  return {
    throttleNext: (n: number) => {
      state.forcedThrottles += n;
    },
    throttleRequest: (ordinal: number) => {
      state.throttledOrdinals.add(ordinal);
    },
    setLatency: (ms: number) => {
      state.latencyMs = ms;
    },
    failNext: (n: number, status = 503) => {
      state.failures = { left: n, status };
    },
    setTokenLifetimes: (l: Partial<TokenLifetimes>) => {
      Object.assign(state.lifetimes, l);
    },
    expireAccessTokens: () => state.authority.expireAll(),
    expireAccessTokensAfter: (ordinal: number) => {
      state.expireAfterGraphql = ordinal;
    },
    loseNextGrantResponse: () => {
      state.loseGrant = true;
    },
    setVersionAnswer: (answer: { version?: string | null; deprecatedReason?: string | null }) => {
      const was = state.versionAnswer;
      state.versionAnswer = {
        version: answer.version === undefined ? was.version : answer.version,
        deprecatedReason:
          answer.deprecatedReason === undefined ? was.deprecatedReason : answer.deprecatedReason,
      };
    },
  };
}

export async function startFakeShopify(options: FakeShopifyOptions = {}): Promise<FakeShopify> {
  const lifetimes: TokenLifetimes = { ...DEFAULT_LIFETIMES, ...options.tokenLifetimes };
  const authority = createTokenAuthority({ oauthApp: options.oauthApp ?? null, lifetimes });
  const state = createState(options, lifetimes, authority);
  for (const s of options.shops ?? []) addShop(state, s);
  const server = listen(state);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  const shopOf = (domain: string) => {
    const s = state.shops.get(domain.toLowerCase());
    if (!s) throw new Error(`fake Shopify: no shop ${domain}`);
    return s;
  };
  return {
    url,
    baseUrl: `${url}/{shop}`,
    port,
    shops: state.shops,
    shop: shopOf,
    addShop: (input) => addShop(state, input),
    ...modes(state),
    uninstall: (domain, clientId) => uninstallApp(state, shopOf(domain), clientId),
    requests: state.requests,
    stats: state.stats,
    restPaths: state.restPaths,
    close: async (closing = {}) => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      const expected = closing.restRequestsExpected ?? 0;
      if (state.restPaths.length !== expected) {
        throw new Error(
          `fake Shopify: ${state.restPaths.length} REST request(s) reached it (expected ${expected}); the product must use the GraphQL Admin API only: ${state.restPaths.join(', ')}`,
        );
      }
    },
  };
}
