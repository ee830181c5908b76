/**
 * The fake's token authority: every grant Shopify's `/admin/oauth/access_token` speaks (client
 * credentials, authorization code with `expiring=1`, refresh with rotation), the authorize screen
 * of "Connect with Shopify" (approve and deny, authorize.ts), and the check of an
 * `X-Shopify-Access-Token` (tokens.ts).
 *
 * Rotation as Shopify does it since 2026-08: refreshing with R answers a new access token A2 and a
 * new refresh token R2; R stays valid until A2 or R2 is first used, so an app that lost the answer
 * can refresh with R again.
 */
import { authorizeScreen, type CodeRecord, decide } from './authorize.ts';
import { createTokenLedger, type TokenLedger } from './tokens.ts';

import type { FakeOAuthApp, FakeShop, GrantCounts, Reply, TokenLifetimes } from './types.ts';

export type { Reply };

const oauthError = (status: number, error: string, description: string): Reply => ({
  status,
  body: { error, error_description: description },
});
const badClient = () =>
  oauthError(401, 'invalid_client', 'Client authentication failed: unknown client or wrong secret.');

export const INVALID_TOKEN_BODY = {
  errors: '[API] Invalid API key or access token (unrecognized login or wrong password)',
};

function clientCredentials(ledger: TokenLedger, shop: FakeShop, clientId: string, secret: string): Reply {
  const app = shop.ownApps.get(clientId);
  if (!app || app.clientSecret !== secret) return badClient();
  const scopes = app.scopes ?? shop.scopes;
  const seconds = ledger.lifetimes.clientCredentialsSeconds;
  return {
    status: 200,
    body: {
      access_token: ledger.issue(shop, clientId, scopes, seconds, null),
      scope: scopes.join(','),
      expires_in: seconds,
    },
  };
}

function authorizationCode(
  ledger: TokenLedger,
  codes: Map<string, CodeRecord>,
  shop: FakeShop,
  clientId: string,
  params: Record<string, string>,
): Reply {
  const code = codes.get(params.code ?? '');
  if (!code || code.used || code.shop !== shop.domain || Date.now() > code.expiresAt) {
    return oauthError(400, 'invalid_grant', 'The authorization code was not found or was already used.');
  }
  code.used = true;
  if (params.expiring !== '1') {
    // A non-expiring offline token, as before December 2025.
    const access = ledger.issue(shop, clientId, code.scopes, null, null);
    return { status: 200, body: { access_token: access, scope: code.scopes.join(',') } };
  }
  return { status: 200, body: ledger.issuePair(shop, clientId, code.scopes, null) };
}

function refresh(ledger: TokenLedger, shop: FakeShop, clientId: string, presented: string): Reply {
  const r = ledger.refreshOf(presented);
  if (!r || r.retired || r.shop !== shop.domain || Date.now() >= r.expiresAt) {
    return oauthError(400, 'invalid_grant', 'The refresh token is invalid, expired or revoked.');
  }
  if (r.parent) ledger.retire(r.parent);
  return { status: 200, body: ledger.issuePair(shop, clientId, r.scopes, presented) };
}

export type TokenAuthority = ReturnType<typeof createTokenAuthority>;

export function createTokenAuthority(setup: { oauthApp: FakeOAuthApp | null; lifetimes: TokenLifetimes }) {
  const ledger = createTokenLedger(setup.lifetimes);
  const codes = new Map<string, CodeRecord>();
  const grants: GrantCounts = { client_credentials: 0, authorization_code: 0, refresh_token: 0 };
  const app = setup.oauthApp;

  /** POST /admin/oauth/access_token (form-encoded or JSON parameters). */
  function grant(shop: FakeShop, params: Record<string, string>): Reply {
    const type = params.grant_type ?? (params.code ? 'authorization_code' : '');
    const clientId = params.client_id ?? '';
    const secret = params.client_secret ?? '';
    if (type === 'client_credentials') {
      grants.client_credentials++;
      return clientCredentials(ledger, shop, clientId, secret);
    }
    if (type !== 'authorization_code' && type !== 'refresh_token') {
      return oauthError(400, 'unsupported_grant_type', `Unsupported grant type "${type}".`);
    }
    grants[type]++;
    if (!app || app.clientId !== clientId || app.clientSecret !== secret) return badClient();
    if (!shop.installed.has(clientId)) return oauthError(400, 'invalid_grant', 'The app is not installed.');
    return type === 'authorization_code'
      ? authorizationCode(ledger, codes, shop, clientId, params)
      : refresh(ledger, shop, clientId, params.refresh_token ?? '');
  }

  return {
    grants,
    lifetimes: setup.lifetimes,
    authenticate: ledger.authenticate,
    grant,
    authorizeScreen: (shop: FakeShop, query: URLSearchParams) => authorizeScreen(app, shop, query),
    decide: (shop: FakeShop, form: URLSearchParams, approve: boolean) =>
      decide(app, codes, shop, form, approve),
    revoke: ledger.revoke,
    clientOf: ledger.clientOf,
    expireAll: ledger.expireAll,
  };
}
