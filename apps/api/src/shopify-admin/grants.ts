/**
 * Shopify's token endpoint, `POST https://{shop}/admin/oauth/access_token` (form-encoded): the client
 * credentials grant (Dev Dashboard app of the merchant's own organization, ~24 h token), the
 * authorization code grant with `expiring=1` (Connect with Shopify: 1 h access token + refresh token),
 * and the refresh grant (Shopify rotates the refresh token on each use).
 *
 * A refusal (400 invalid_grant, 401 invalid_client: revoked, uninstalled, secret rotated) is a
 * ShopifyAdminError 'bad_token' with `refused`; network trouble and 5xx are 'unreachable'.
 * Messages never contain a secret or a token.
 */
import { z } from 'zod';
import type { AppConfig } from '../config.ts';
import {
  adminUrl,
  DEFAULT_TIMEOUT_MS,
  parseJsonBody,
  readText,
  ShopifyAdminError,
  statusError,
} from './http.ts';

export type GrantedTokens = {
  accessToken: string;
  scopes: string[];
  /** Null: the token does not expire (a non-expiring offline token). */
  expiresAt: Date | null;
  refreshToken: string | null;
  refreshTokenExpiresAt: Date | null;
};

const grantSchema = z.object({
  access_token: z.string().min(1),
  scope: z.string().optional(),
  expires_in: z.number().int().positive().optional(),
  refresh_token: z.string().min(1).optional(),
  refresh_token_expires_in: z.number().int().positive().optional(),
});

const oauthErrorSchema = z.object({ error: z.string(), error_description: z.string().optional() });

export class GrantRefusedError extends ShopifyAdminError {
  readonly oauthError: string;
  constructor(message: string, oauthError: string, status: number) {
    super('bad_token', message, status);
    this.name = 'GrantRefusedError';
    this.oauthError = oauthError;
  }
}

async function tokenRequest(
  config: AppConfig,
  shopDomain: string,
  params: Record<string, string>,
  what: string,
): Promise<GrantedTokens> {
  const url = adminUrl(config, shopDomain, '/admin/oauth/access_token');
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(params).toString(),
      signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS),
      redirect: 'manual',
    });
  } catch {
    throw new ShopifyAdminError('unreachable', `Could not reach Shopify (${shopDomain}) while ${what}.`);
  }
  const text = await readText(response, shopDomain);
  if (response.status === 400 || response.status === 401) {
    let parsed: z.infer<typeof oauthErrorSchema> | null = null;
    try {
      parsed = oauthErrorSchema.safeParse(JSON.parse(text)).data ?? null;
    } catch {
      parsed = null;
    }
    const code = parsed?.error ?? `http_${response.status}`;
    throw new GrantRefusedError(
      `Shopify refused ${what} for ${shopDomain} (${code}): the app was uninstalled, its access revoked, or its credentials changed. Reconnect the store.`,
      code,
      response.status,
    );
  }
  if (!response.ok) throw statusError(response, shopDomain, what, { notFoundIsUnknownShop: true });
  const body = grantSchema.safeParse(parseJsonBody(text, shopDomain, what));
  if (!body.success) {
    throw new ShopifyAdminError(
      'api_error',
      `Shopify (${shopDomain}) answered ${what} in an unexpected shape.`,
    );
  }
  const now = Date.now();
  const b = body.data;
  return {
    accessToken: b.access_token,
    scopes: (b.scope ?? '').split(',').filter(Boolean),
    expiresAt: b.expires_in ? new Date(now + b.expires_in * 1000) : null,
    refreshToken: b.refresh_token ?? null,
    refreshTokenExpiresAt: b.refresh_token_expires_in
      ? new Date(now + b.refresh_token_expires_in * 1000)
      : null,
  };
}

/** Client credentials grant: an app of the merchant's own organization, installed on the store. */
export function clientCredentialsGrant(
  config: AppConfig,
  shopDomain: string,
  client: { clientId: string; clientSecret: string },
): Promise<GrantedTokens> {
  return tokenRequest(
    config,
    shopDomain,
    { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret },
    'getting an access token with the client credentials',
  );
}

/** Authorization code grant, asking for an expiring offline token and its refresh token. */
export function authorizationCodeGrant(
  config: AppConfig,
  shopDomain: string,
  client: { clientId: string; clientSecret: string },
  code: string,
): Promise<GrantedTokens> {
  return tokenRequest(
    config,
    shopDomain,
    { client_id: client.clientId, client_secret: client.clientSecret, code, expiring: '1' },
    'exchanging the authorization code',
  );
}

/** Refresh grant: a new access token and a new refresh token (the old one retires on first use of them). */
export function refreshTokenGrant(
  config: AppConfig,
  shopDomain: string,
  client: { clientId: string; clientSecret: string },
  refreshToken: string,
): Promise<GrantedTokens> {
  return tokenRequest(
    config,
    shopDomain,
    {
      grant_type: 'refresh_token',
      client_id: client.clientId,
      client_secret: client.clientSecret,
      refresh_token: refreshToken,
    },
    'renewing the access token',
  );
}
