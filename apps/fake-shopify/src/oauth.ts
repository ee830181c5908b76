/**
 * The fake's token authority: every grant Shopify's `/admin/oauth/access_token` speaks (client
 * credentials, authorization code with `expiring=1`, refresh with rotation), the authorize screen
 * of "Connect with Shopify" (approve and deny), and the check of an `X-Shopify-Access-Token`.
 *
 * Rotation as Shopify does it since 2026-08: refreshing with R answers a new access token A2 and a
 * new refresh token R2; R stays valid until A2 or R2 is first used, so an app that lost the answer
 * can refresh with R again.
 */
import { randomBytes } from 'node:crypto';
import { signOAuthQuery } from '@crm/shopify';
import type { FakeOAuthApp, FakeShop, GrantCounts, IssuedToken, TokenLifetimes } from './types.ts';

type RefreshRecord = {
  shop: string;
  clientId: string;
  expiresAt: number;
  scopes: string[];
  retired: boolean;
  /** The refresh token this one replaced (retired on this one's first use). */
  parent: string | null;
};
type CodeRecord = { shop: string; clientId: string; scopes: string[]; used: boolean; expiresAt: number };

export type Reply = { status: number; body: unknown; headers?: Record<string, string>; html?: string };

const token = (prefix: string) => `${prefix}_${randomBytes(16).toString('hex')}`;
const oauthError = (status: number, error: string, description: string): Reply => ({
  status,
  body: { error, error_description: description },
});

export const INVALID_TOKEN_BODY = {
  errors: '[API] Invalid API key or access token (unrecognized login or wrong password)',
};

export type TokenAuthority = ReturnType<typeof createTokenAuthority>;

export function createTokenAuthority(setup: { oauthApp: FakeOAuthApp | null; lifetimes: TokenLifetimes }) {
  const issued = new Map<string, IssuedToken>();
  const refreshTokens = new Map<string, RefreshRecord>();
  const codes = new Map<string, CodeRecord>();
  const grants: GrantCounts = { client_credentials: 0, authorization_code: 0, refresh_token: 0 };
  const lifetimes = setup.lifetimes;

  function retire(refresh: string | null): void {
    const r = refresh ? refreshTokens.get(refresh) : undefined;
    if (r) r.retired = true;
  }

  function appInstalled(shop: FakeShop, clientId: string): boolean {
    return shop.ownApps.has(clientId) || shop.installed.has(clientId);
  }

  /** The scopes an `X-Shopify-Access-Token` grants on this shop, or null (unknown, expired, revoked). */
  function authenticate(shop: FakeShop, presented: string): string[] | null {
    if (shop.tokens.has(presented)) return shop.scopes;
    const t = issued.get(presented);
    if (!t || t.shop !== shop.domain || !appInstalled(shop, t.clientId)) return null;
    if (t.expiresAt !== null && Date.now() >= t.expiresAt) return null;
    if (t.from) {
      // First use of a refreshed token: the refresh token that minted it is retired now.
      const r = refreshTokens.get(t.from);
      if (r?.parent) retire(r.parent);
    }
    return t.scopes;
  }

  function issue(
    shop: FakeShop,
    clientId: string,
    scopes: string[],
    seconds: number | null,
    from: string | null,
  ) {
    const access = token('shpat');
    issued.set(access, {
      shop: shop.domain,
      clientId,
      scopes,
      expiresAt: seconds === null ? null : Date.now() + seconds * 1000,
      from,
    });
    return access;
  }

  function issuePair(shop: FakeShop, clientId: string, scopes: string[], parent: string | null) {
    const refresh = token('shprt');
    refreshTokens.set(refresh, {
      shop: shop.domain,
      clientId,
      scopes,
      expiresAt: Date.now() + lifetimes.refreshSeconds * 1000,
      retired: false,
      parent,
    });
    const access = issue(shop, clientId, scopes, lifetimes.accessSeconds, refresh);
    return {
      access_token: access,
      scope: scopes.join(','),
      expires_in: lifetimes.accessSeconds,
      refresh_token: refresh,
      refresh_token_expires_in: lifetimes.refreshSeconds,
    };
  }

  /** POST /admin/oauth/access_token (form-encoded or JSON parameters). */
  function grant(shop: FakeShop, params: Record<string, string>): Reply {
    const type = params.grant_type ?? (params.code ? 'authorization_code' : '');
    const clientId = params.client_id ?? '';
    const secret = params.client_secret ?? '';
    if (type === 'client_credentials') {
      grants.client_credentials++;
      const app = shop.ownApps.get(clientId);
      if (!app || app.clientSecret !== secret) {
        return oauthError(
          401,
          'invalid_client',
          'Client authentication failed: unknown client or wrong secret.',
        );
      }
      const scopes = app.scopes ?? shop.scopes;
      const seconds = lifetimes.clientCredentialsSeconds;
      return {
        status: 200,
        body: {
          access_token: issue(shop, clientId, scopes, seconds, null),
          scope: scopes.join(','),
          expires_in: seconds,
        },
      };
    }
    const app = setup.oauthApp;
    if (type === 'authorization_code' || type === 'refresh_token') {
      if (type === 'authorization_code') grants.authorization_code++;
      else grants.refresh_token++;
      if (!app || app.clientId !== clientId || app.clientSecret !== secret) {
        return oauthError(
          401,
          'invalid_client',
          'Client authentication failed: unknown client or wrong secret.',
        );
      }
      if (!shop.installed.has(clientId)) return oauthError(400, 'invalid_grant', 'The app is not installed.');
    }
    if (type === 'authorization_code') {
      const code = codes.get(params.code ?? '');
      if (!code || code.used || code.shop !== shop.domain || Date.now() > code.expiresAt) {
        return oauthError(400, 'invalid_grant', 'The authorization code was not found or was already used.');
      }
      code.used = true;
      if (params.expiring !== '1') {
        // A non-expiring offline token, as before December 2025.
        return {
          status: 200,
          body: {
            access_token: issue(shop, clientId, code.scopes, null, null),
            scope: code.scopes.join(','),
          },
        };
      }
      return { status: 200, body: issuePair(shop, clientId, code.scopes, null) };
    }
    if (type === 'refresh_token') {
      const presented = params.refresh_token ?? '';
      const r = refreshTokens.get(presented);
      if (!r || r.retired || r.shop !== shop.domain || Date.now() >= r.expiresAt) {
        return oauthError(400, 'invalid_grant', 'The refresh token is invalid, expired or revoked.');
      }
      if (r.parent) retire(r.parent);
      return { status: 200, body: issuePair(shop, clientId, r.scopes, presented) };
    }
    return oauthError(400, 'unsupported_grant_type', `Unsupported grant type "${type}".`);
  }

  /** GET /admin/oauth/authorize: the merchant's grant screen, with an Install and a Cancel button. */
  function authorizeScreen(shop: FakeShop, query: URLSearchParams): Reply {
    const app = setup.oauthApp;
    if (!app || query.get('client_id') !== app.clientId) {
      return { status: 400, body: null, html: '<h1>Oauth error invalid_request: unknown client_id</h1>' };
    }
    const esc = (v: string) => v.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
    const hidden = [...query.entries()]
      .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
      .join('');
    const scopes = esc(query.get('scope') ?? '');
    const html = `<!doctype html><title>Install ${esc(app.name ?? 'app')}</title>
<h1>Install ${esc(app.name ?? 'app')} on ${esc(shop.name)}</h1><p>It asks for: ${scopes}</p>
<form method="post" action="authorize/approve">${hidden}<button type="submit">Install</button></form>
<form method="post" action="authorize/deny">${hidden}<button type="submit">Cancel</button></form>`;
    return { status: 200, body: null, html };
  }

  /** POST /admin/oauth/authorize/approve|deny: back to the app's redirect_uri, signed like Shopify. */
  function decide(shop: FakeShop, form: URLSearchParams, approve: boolean): Reply {
    const app = setup.oauthApp;
    const redirectUri = form.get('redirect_uri');
    if (!app || form.get('client_id') !== app.clientId || !redirectUri) {
      return { status: 400, body: { errors: 'invalid_request' } };
    }
    const target = new URL(redirectUri);
    if (!approve) {
      target.search = new URLSearchParams({
        error: 'access_denied',
        shop: shop.domain,
        state: form.get('state') ?? '',
      }).toString();
      return { status: 302, body: null, headers: { location: target.toString() } };
    }
    shop.installed.add(app.clientId);
    const scopes = (form.get('scope') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const code = randomBytes(16).toString('hex');
    codes.set(code, {
      shop: shop.domain,
      clientId: app.clientId,
      scopes,
      used: false,
      expiresAt: Date.now() + 60_000,
    });
    const params: [string, string][] = [
      ['code', code],
      ['host', Buffer.from(`admin.shopify.com/store/${shop.domain.split('.')[0]}`).toString('base64url')],
      ['shop', shop.domain],
      ['state', form.get('state') ?? ''],
      ['timestamp', String(Math.floor(Date.now() / 1000))],
    ];
    const query = new URLSearchParams(params);
    query.set('hmac', signOAuthQuery(params, app.clientSecret));
    target.search = query.toString();
    return { status: 302, body: null, headers: { location: target.toString() } };
  }

  /** The merchant uninstalled the app: every token of it on the shop stops working. */
  function revoke(shop: FakeShop, clientId: string): void {
    shop.installed.delete(clientId);
    shop.ownApps.delete(clientId);
    for (const [t, rec] of issued)
      if (rec.shop === shop.domain && rec.clientId === clientId) issued.delete(t);
    for (const rec of refreshTokens.values())
      if (rec.shop === shop.domain && rec.clientId === clientId) rec.retired = true;
  }

  return {
    grants,
    lifetimes,
    authenticate,
    grant,
    authorizeScreen,
    decide,
    revoke,
    /** The client id that issued a token (for tests and the uninstall webhook), or null. */
    clientOf: (t: string) => issued.get(t)?.clientId ?? null,
    expireAll: () => {
      for (const rec of issued.values()) if (rec.expiresAt !== null) rec.expiresAt = Date.now() - 1;
    },
  };
}
