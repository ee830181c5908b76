/**
 * The fake's ledger of issued tokens: expiring and static access tokens, refresh tokens with
 * rotation (a refresh token is retired when the token it minted, or its replacement, is first used),
 * revocation on uninstall.
 */
import { randomBytes } from 'node:crypto';
import type { FakeShop, IssuedToken, TokenLifetimes } from './types.ts';

export type RefreshRecord = {
  shop: string;
  clientId: string;
  expiresAt: number;
  scopes: string[];
  retired: boolean;
  /** The refresh token this one replaced (retired on this one's first use). */
  parent: string | null;
};

export const newToken = (prefix: string) => `${prefix}_${randomBytes(16).toString('hex')}`;

export type TokenLedger = ReturnType<typeof createTokenLedger>;

export function createTokenLedger(lifetimes: TokenLifetimes) {
  const issued = new Map<string, IssuedToken>();
  const refreshTokens = new Map<string, RefreshRecord>();

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
    const access = newToken('shpat');
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
    const refresh = newToken('shprt');
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
    lifetimes,
    authenticate,
    issue,
    issuePair,
    retire,
    revoke,
    refreshOf: (t: string) => refreshTokens.get(t),
    /** The client id that issued a token (for tests and the uninstall webhook), or null. */
    clientOf: (t: string) => issued.get(t)?.clientId ?? null,
    expireAll: () => {
      for (const rec of issued.values()) if (rec.expiresAt !== null) rec.expiresAt = Date.now() - 1;
    },
  };
}
