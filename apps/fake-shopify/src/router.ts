/**
 * The fake's routes: the grant screen and its answers, the token endpoint, the GraphQL Admin API;
 * anything else (REST included) 404, REST requests counted so the suites can fail on any.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { handleGraphql } from './graphql.ts';
import { grantParams, readBody, send } from './http-util.ts';
import { INVALID_TOKEN_BODY } from './oauth.ts';
import { bucketOf, type FakeState } from './state.ts';
import type { FakeShop, Reply } from './types.ts';

const NOT_FOUND: Reply = { status: 404, body: { errors: 'Not Found' } };

function graphql(
  state: FakeState,
  shop: FakeShop,
  scopes: string[],
  apiVersion: string,
  text: string,
): Reply {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    return { status: 400, body: { errors: { query: 'Required parameter missing or invalid' } } };
  }
  const stats = state.stats;
  stats.graphql++;
  let drain = state.throttledOrdinals.delete(stats.graphql);
  if (!drain && state.forcedThrottles > 0) {
    state.forcedThrottles--;
    drain = true;
  }
  const result = handleGraphql(
    {
      shop,
      scopes,
      apiVersion,
      nextWebhookId: () => String(state.nextWebhookId++),
      bucket: bucketOf(state, shop.domain),
      drain,
      maximumAvailable: state.maximumAvailable,
      restoreRate: state.restoreRate,
    },
    parsed,
  );
  if (result.throttled) stats.throttled++;
  if (state.expireAfterGraphql !== null && stats.graphql >= state.expireAfterGraphql) {
    state.expireAfterGraphql = null;
    state.authority.expireAll();
  }
  return { status: result.status, body: result.body };
}

/** A REST Admin API path (`/admin/...json`, `/admin/api/<v>/...json` but GraphQL). */
const isRest = (path: string) =>
  path.startsWith('/admin/') && path.endsWith('.json') && !/^\/admin\/api\/[^/]+\/graphql\.json$/.test(path);

async function route(
  state: FakeState,
  req: IncomingMessage,
  res: ServerResponse,
  domain: string | null,
  path: string,
): Promise<Reply | null> {
  const method = req.method ?? 'GET';
  if (isRest(path)) {
    state.stats.rest++;
    state.restPaths.push(`${method} ${domain ?? ''}${path}`);
    return NOT_FOUND;
  }
  const shop = domain ? state.shops.get(domain) : undefined;
  if (!shop) return NOT_FOUND;
  const authority = state.authority;
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
    if (state.loseGrant) {
      state.loseGrant = false;
      res.destroy();
      return null;
    }
    return reply;
  }
  const versioned = /^\/admin\/api\/([^/]+)\/graphql\.json$/.exec(path);
  if (!versioned || method !== 'POST') return NOT_FOUND;
  const presented = req.headers['x-shopify-access-token'];
  const scopes = typeof presented === 'string' ? authority.authenticate(shop, presented) : null;
  if (!scopes) return { status: 401, body: INVALID_TOKEN_BODY };
  return graphql(state, shop, scopes, versioned[1] ?? '', await readBody(req));
}

/** Answers one request; returns the shop and status for the request log. */
export async function handle(
  state: FakeState,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<{ shop: string | null; status: number }> {
  const url = new URL(req.url ?? '/', 'http://fake.invalid');
  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const domain =
    segments[0] === 'admin'
      ? (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase() || null
      : (segments.shift()?.toLowerCase() ?? null);
  const path = `/${segments.join('/')}`;
  if (state.failures.left > 0) {
    state.failures.left--;
    const status = state.failures.status;
    send(res, { status, body: { errors: 'Service Unavailable (fake Shopify incident)' } });
    return { shop: domain, status };
  }
  const reply = await route(state, req, res, domain, path);
  if (!reply) return { shop: domain, status: 0 };
  const asked = /^\/admin\/api\/([^/]+)\//.exec(path)?.[1];
  const headers: Record<string, string> = {};
  const answer = state.versionAnswer;
  if (asked) headers['x-shopify-api-version'] = answer.version ?? asked;
  if (asked && answer.deprecatedReason) headers['x-shopify-api-deprecated-reason'] = answer.deprecatedReason;
  send(res, reply, headers);
  return { shop: domain, status: reply.status };
}
