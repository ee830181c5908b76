/**
 * "Connect with Shopify": the OAuth authorization code grant with expiring offline tokens, for the
 * product installed as the operator's distributed app (SHOPIFY_API_KEY / SHOPIFY_API_SECRET /
 * SHOPIFY_SCOPES).
 *
 * start: a single-use state nonce (its hash stored with the owner's user, session and workspace and
 * the shop) and the URL of Shopify's grant screen. callback: the query hmac under the app secret, the
 * shop's `*.myshopify.com` pattern, a timestamp within 5 minutes, the state (unused, recent, this
 * user's, this session's, this shop's — used up by the check), then the code exchanged with
 * `expiring=1`, the connection tested, and the tokens stored. A refused callback stores nothing.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { encryptSecret, type Tx, withUser } from '@crm/db';
import {
  consumeOAuthState,
  createOAuthState,
  getShopifyIntegration,
  upsertShopifyIntegration,
} from '@crm/db/owner';
import { normalizeShopDomain, secretHint, verifyOAuthQuery } from '@crm/shopify';
import { hashSessionToken } from '../auth/session.ts';
import type { AppDeps } from '../deps.ts';
import { integrationConfigSchema } from '../integration-config.ts';
import { testConnection } from '../shopify-admin/client.ts';
import { authorizationCodeGrant, type GrantedTokens, GrantRefusedError } from '../shopify-admin/grants.ts';
import { adminUrl } from '../shopify-admin/http.ts';
import { IntegrationError } from './errors.ts';
import { shopDomainOrRefuse } from './service.ts';
import type { RunInTx } from './token-store.ts';

/** How far the callback's timestamp may be from now. */
const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

export function oauthRedirectUrl(deps: AppDeps): string {
  return `${deps.config.publicUrl}/shopify/oauth/callback`;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Records a state for this owner, session and workspace; returns the URL of Shopify's grant screen. */
export async function startShopifyConnect(
  deps: AppDeps,
  db: RunInTx,
  caller: { workspaceId: string; userId: string; sessionToken: string },
  shopInput: string,
): Promise<string> {
  const app = deps.config.shopifyApp;
  if (!app) {
    throw new IntegrationError(
      'PRECONDITION_FAILED',
      'Connect with Shopify is not set up on this server (SHOPIFY_API_KEY and SHOPIFY_API_SECRET).',
    );
  }
  const shopDomain = shopDomainOrRefuse(shopInput, 'shopDomain');
  const nonce = randomBytes(32).toString('base64url');
  await db((tx) =>
    createOAuthState(tx, {
      nonceHash: sha256(nonce),
      userId: caller.userId,
      workspaceId: caller.workspaceId,
      sessionHash: hashSessionToken(caller.sessionToken),
      shopDomain,
    }),
  );
  const url = new URL(adminUrl(deps.config, shopDomain, '/admin/oauth/authorize'));
  url.search = new URLSearchParams({
    client_id: app.apiKey,
    scope: app.scopes.join(','),
    redirect_uri: oauthRedirectUrl(deps),
    state: nonce,
  }).toString();
  return url.toString();
}

export type CallbackRefusal =
  | 'not_configured'
  | 'denied'
  | 'bad_hmac'
  | 'bad_shop'
  | 'stale'
  | 'not_signed_in'
  | 'bad_state'
  | 'refused'
  | 'unreachable'
  | 'missing_scope';

export type CallbackOutcome = { ok: true; workspaceId: string } | { ok: false; reason: CallbackRefusal };

/** Shopify signed this query with the app's secret, for a `*.myshopify.com` shop, a moment ago. */
function checkSigned(apiSecret: string, query: URLSearchParams, nowMs: number): CallbackRefusal | null {
  if (!verifyOAuthQuery(query, apiSecret)) return 'bad_hmac';
  const shop = query.get('shop') ?? '';
  const normalized = normalizeShopDomain(shop);
  if (!normalized.ok || normalized.domain !== shop) return 'bad_shop';
  const ts = Number(query.get('timestamp'));
  if (!Number.isInteger(ts) || Math.abs(nowMs / 1000 - ts) > MAX_CLOCK_SKEW_SECONDS) return 'stale';
  return null;
}

/** The checks that need no database: who signed the query, which shop, when. */
function checkQuery(deps: AppDeps, query: URLSearchParams, nowMs: number): CallbackRefusal | null {
  const app = deps.config.shopifyApp;
  if (!app) return 'not_configured';
  if (query.has('error') && !query.has('hmac')) return 'denied';
  const refusal = checkSigned(app.apiSecret, query, nowMs);
  if (refusal) return refusal;
  if (!query.get('code') || !query.get('state')) return 'bad_state';
  return null;
}

export type InstallOutcome = { ok: true; shop: string } | { ok: false; reason: CallbackRefusal };

/**
 * An install that starts on Shopify's side: Shopify opens the app URL with `shop`, `timestamp`,
 * `host` and `hmac`. Verified like the callback (HMAC with the app secret, shop pattern, time); the
 * person then signs in if needed and picks a workspace they own (the SPA's /install screen), and
 * the normal grant redirect and callback follow.
 */
export function checkInstallRequest(
  deps: AppDeps,
  query: URLSearchParams,
  nowMs = Date.now(),
): InstallOutcome {
  const app = deps.config.shopifyApp;
  if (!app) return { ok: false, reason: 'not_configured' };
  const refusal = checkSigned(app.apiSecret, query, nowMs);
  return refusal ? { ok: false, reason: refusal } : { ok: true, shop: query.get('shop') ?? '' };
}

/** Stores the connection: tokens, expiry, refresh token, the app secret as the webhook secret. */
async function saveOAuthConnection(
  tx: Tx,
  deps: AppDeps,
  workspaceId: string,
  shopDomain: string,
  grant: GrantedTokens,
  apiSecret: string,
): Promise<void> {
  const existing = await getShopifyIntegration(tx, workspaceId, { forUpdate: true });
  const config = integrationConfigSchema.parse({ ...(existing?.config ?? {}), shopDomain });
  await upsertShopifyIntegration(tx, existing?.id ?? null, {
    workspaceId,
    name: existing?.name ?? 'Shopify',
    config,
    accessToken: { enc: encryptSecret(grant.accessToken, deps.key), last4: secretHint(grant.accessToken) },
    webhookSecret: { enc: encryptSecret(apiSecret, deps.key), last4: null },
    connection: {
      method: 'oauth',
      accessTokenExpiresAt: grant.expiresAt,
      refreshTokenEnc: grant.refreshToken ? encryptSecret(grant.refreshToken, deps.key) : null,
      refreshTokenExpiresAt: grant.refreshTokenExpiresAt,
    },
    credentialsTestedAt: new Date(),
  });
}

/** The OAuth callback: every check, then the code exchange and the stored connection. */
export async function completeShopifyConnect(
  deps: AppDeps,
  query: URLSearchParams,
  session: { userId: string; sessionToken: string } | null,
  nowMs = Date.now(),
): Promise<CallbackOutcome> {
  const refusal = checkQuery(deps, query, nowMs);
  const app = deps.config.shopifyApp;
  if (refusal || !app) return { ok: false, reason: refusal ?? 'not_configured' };
  if (!session) return { ok: false, reason: 'not_signed_in' };
  const shop = query.get('shop') ?? '';
  const db: RunInTx = (fn) => withUser(deps.sql, session.userId, fn);
  const state = await db((tx) => consumeOAuthState(tx, sha256(query.get('state') ?? '')));
  const sessionHash = hashSessionToken(session.sessionToken);
  if (!state || state.shopDomain !== shop || !timingSafeEqual(state.sessionHash, sessionHash)) {
    return { ok: false, reason: 'bad_state' };
  }
  const client = { clientId: app.apiKey, clientSecret: app.apiSecret };
  let grant: GrantedTokens;
  try {
    grant = await authorizationCodeGrant(deps.config, shop, client, query.get('code') ?? '');
  } catch (error) {
    return { ok: false, reason: error instanceof GrantRefusedError ? 'refused' : 'unreachable' };
  }
  const test = await testConnection(deps.config, { shopDomain: shop, accessToken: grant.accessToken });
  if (!test.ok) return { ok: false, reason: test.reason === 'missing_scope' ? 'missing_scope' : 'refused' };
  await db((tx) => saveOAuthConnection(tx, deps, state.workspaceId, shop, grant, app.apiSecret));
  return { ok: true, workspaceId: state.workspaceId };
}
