/**
 * Tokens that look after themselves. `integrationTokenSource` gives the Admin API client a token valid
 * now for an integration, whatever its connection method:
 *
 * - legacy: the static token; a 401 marks the integration *needs reconnection*.
 * - client_credentials: a fresh client credentials grant when the token is about to expire or is refused.
 * - oauth: the refresh grant (Shopify rotates the refresh token) when about to expire or refused.
 *
 * Renewal is single-flight across every process: it takes the integration's advisory lock in a
 * transaction, reads the tokens again (another process may have renewed them meanwhile: then those
 * are used), calls Shopify while holding the lock, stores the new tokens, and commits before anyone
 * uses them. If the process dies between Shopify's answer and the commit, nothing was stored: the
 * next renewal uses the previous refresh token, which Shopify keeps valid until its replacement is
 * used. A refusal renewal cannot fix (revoked, uninstalled, secret rotated) marks the integration
 * *needs reconnection*; webhooks are not affected.
 */
import {
  decryptSecret,
  encryptSecret,
  type IntegrationTokens,
  last4,
  lockIntegrationTokens,
  markNeedsReconnection,
  readIntegrationTokens,
  storeRenewedTokens,
  type Tx,
} from '@crm/db';
import type { AppDeps } from '../deps.ts';
import { metrics } from '../metrics.ts';
import {
  clientCredentialsGrant,
  type GrantedTokens,
  GrantRefusedError,
  refreshTokenGrant,
} from '../shopify-admin/grants.ts';
import { type ShopCredentials, ShopifyAdminError, type TokenSource } from '../shopify-admin/http.ts';
import { apiWarningReporter } from './api-warnings.ts';

export type RunInTx = <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>;

/** Renew this long before expiry: 5 minutes, or a quarter of a shorter lifetime. */
export function renewalMargin(t: Pick<IntegrationTokens, 'accessTokenExpiresAt' | 'tokenRenewedAt'>): number {
  const expires = t.accessTokenExpiresAt?.getTime();
  if (expires === undefined) return 0;
  const lifetime = t.tokenRenewedAt ? expires - t.tokenRenewedAt.getTime() : Number.POSITIVE_INFINITY;
  return Math.min(5 * 60_000, Math.max(0, lifetime / 4));
}

/** Whether the stored access token is still good to use now. */
export function isFresh(t: IntegrationTokens, now = Date.now()): boolean {
  if (!t.accessTokenEnc) return false;
  if (t.accessTokenExpiresAt === null) return true;
  return t.accessTokenExpiresAt.getTime() - renewalMargin(t) > now;
}

const RECONNECT =
  'Shopify no longer accepts this connection (the app was uninstalled, its access revoked, or its credentials changed). Reconnect the store.';

function grantFor(deps: AppDeps, t: IntegrationTokens): Promise<GrantedTokens> | null {
  const shop = t.shopDomain ?? '';
  if (t.connectionMethod === 'client_credentials' && t.clientId && t.clientSecretEnc) {
    return clientCredentialsGrant(deps.config, shop, {
      clientId: t.clientId,
      clientSecret: decryptSecret(t.clientSecretEnc, deps.key),
    });
  }
  const app = deps.config.shopifyApp;
  if (t.connectionMethod === 'oauth' && t.refreshTokenEnc && app) {
    return refreshTokenGrant(
      deps.config,
      shop,
      { clientId: app.apiKey, clientSecret: app.apiSecret },
      decryptSecret(t.refreshTokenEnc, deps.key),
    );
  }
  return null;
}

type Renewal = { token: string } | { refused: string };

/**
 * Under the integration's lock: the stored token if another process renewed it (or `rejected` is not
 * the stored one any more), else a new one from Shopify, stored before the transaction commits.
 */
async function renewLocked(
  deps: AppDeps,
  tx: Tx,
  integrationId: string,
  rejected: string | null,
): Promise<Renewal> {
  const t = await lockIntegrationTokens(tx, integrationId);
  if (!t) throw new ShopifyAdminError('bad_token', 'This integration no longer exists.');
  const stored = t.accessTokenEnc ? decryptSecret(t.accessTokenEnc, deps.key) : null;
  if (stored && stored !== rejected && isFresh(t)) return { token: stored };
  const grant = grantFor(deps, t);
  if (!grant) {
    await markNeedsReconnection(tx, integrationId, RECONNECT);
    return { refused: RECONNECT };
  }
  let granted: GrantedTokens;
  const renewal = { grant: t.connectionMethod === 'oauth' ? 'refresh_token' : 'client_credentials' };
  try {
    granted = await grant;
  } catch (error) {
    metrics.tokenRenewals.inc({
      ...renewal,
      outcome: error instanceof GrantRefusedError ? 'refused' : 'failed',
    });
    if (error instanceof GrantRefusedError) {
      await markNeedsReconnection(tx, integrationId, RECONNECT);
      return { refused: RECONNECT };
    }
    throw error;
  }
  metrics.tokenRenewals.inc({ ...renewal, outcome: 'renewed' });
  await storeRenewedTokens(tx, integrationId, {
    accessTokenEnc: encryptSecret(granted.accessToken, deps.key),
    accessTokenLast4: last4(granted.accessToken),
    accessTokenExpiresAt: granted.expiresAt,
    ...(t.connectionMethod === 'oauth'
      ? {
          refreshTokenEnc: granted.refreshToken ? encryptSecret(granted.refreshToken, deps.key) : null,
          refreshTokenExpiresAt: granted.refreshTokenExpiresAt,
        }
      : {}),
  });
  return { token: granted.accessToken };
}

/** The TokenSource of one integration; `db` runs a transaction with the right to update its row. */
export function integrationTokenSource(deps: AppDeps, db: RunInTx, integrationId: string): TokenSource {
  let cached: IntegrationTokens | null = null;
  let cachedToken: string | null = null;
  const renew = async (rejected: string | null): Promise<string> => {
    const result = await db((tx) => renewLocked(deps, tx, integrationId, rejected));
    if ('refused' in result) throw new ShopifyAdminError('bad_token', result.refused, 401);
    cached = null;
    cachedToken = result.token;
    return result.token;
  };
  return {
    current: async () => {
      if (cached && cachedToken && isFresh(cached)) return cachedToken;
      const t = await db((tx) => readIntegrationTokens(tx, integrationId));
      if (t?.accessTokenEnc && isFresh(t)) {
        cached = t;
        cachedToken = decryptSecret(t.accessTokenEnc, deps.key);
        return cachedToken;
      }
      return renew(null);
    },
    renew: (rejected) => renew(rejected),
    reportApiWarning: apiWarningReporter(deps, db, integrationId),
  };
}

/** Credentials for the Admin API client: the shop and the integration's self-renewing tokens. */
export function integrationCredentials(
  deps: AppDeps,
  db: RunInTx,
  integration: { id: string; shopDomain: string },
): ShopCredentials {
  return { shopDomain: integration.shopDomain, tokens: integrationTokenSource(deps, db, integration.id) };
}
