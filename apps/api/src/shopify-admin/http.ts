/**
 * The one place that talks HTTP to the Shopify Admin API: URL building, the access-token header,
 * timeouts, and turning every failure into a ShopifyAdminError whose message an owner can read.
 * Messages never contain the access token (it only ever travels in a request header).
 */
import { normalizeShopDomain, parseJsonLossless } from '@crm/shopify';
import type { AppConfig } from '../config.ts';

/**
 * Where a request's access token comes from: a static token (legacy custom app), or a source that
 * renews expiring tokens (client credentials, Connect with Shopify; see integrations/token-store.ts).
 */
export type TokenSource = {
  /** A token valid now (renewed first when it is about to expire). */
  current: () => Promise<string>;
  /**
   * Shopify answered 401 to `rejected`: a renewed token, or a ShopifyAdminError('bad_token') when
   * renewal cannot help (revoked, uninstalled, secret rotated).
   */
  renew: (rejected: string) => Promise<string>;
  /**
   * Shopify's answer carried an API version warning (fell forward, deprecated use): the stored
   * integration remembers it for its page and logs it once.
   */
  reportApiWarning?: (warning: string) => Promise<void>;
};

export type ShopCredentials =
  | { shopDomain: string; accessToken: string }
  | { shopDomain: string; tokens: TokenSource };

/** The token to send now. */
export function currentToken(creds: ShopCredentials): Promise<string> {
  return 'tokens' in creds ? creds.tokens.current() : Promise.resolve(creds.accessToken);
}

export type ShopifyAdminErrorKind =
  /** 401: the token is wrong, revoked, or the app was uninstalled. */
  | 'bad_token'
  /** 404 on the shop itself: no such store. */
  | 'unknown_shop'
  /** 403, or a GraphQL ACCESS_DENIED: the token lacks a scope. */
  | 'forbidden'
  /** 402 / 423: the store exists but is frozen, locked or closed. */
  | 'shop_unavailable'
  /** Connection refused, DNS failure, TLS failure, timeout. */
  | 'unreachable'
  /** Rate limited and still limited after waiting. */
  | 'throttled'
  /** Any other HTTP status, a GraphQL error, or a body that is not what the API promises. */
  | 'api_error';

export class ShopifyAdminError extends Error {
  readonly kind: ShopifyAdminErrorKind;
  readonly status: number | null;
  constructor(kind: ShopifyAdminErrorKind, message: string, status: number | null = null) {
    super(message);
    this.name = 'ShopifyAdminError';
    this.kind = kind;
    this.status = status;
  }
}

/** Default time limit of one Admin API request. */
export const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * The URL of an Admin API path for a shop. `config.shopifyAdminBaseUrl` holds `{shop}`, replaced by
 * the shop domain: `https://{shop}` in production, `http://127.0.0.1:<port>/{shop}` for the local fake.
 */
export function adminUrl(config: AppConfig, shopDomain: string, path: string): string {
  // Only a store's own "<handle>.myshopify.com" (the one rule, @crm/shopify's normalizeShopDomain).
  const canonical = normalizeShopDomain(shopDomain);
  if (!canonical.ok || canonical.domain !== shopDomain.toLowerCase()) {
    throw new ShopifyAdminError('unknown_shop', `"${shopDomain}" is not a valid shop domain.`);
  }
  const base = config.shopifyAdminBaseUrl.replaceAll('{shop}', shopDomain.toLowerCase()).replace(/\/+$/, '');
  return `${base}${path.startsWith('/') ? path : `/${path}`}`;
}

/** `/admin/api/<version>/<rest>` */
export function versionedPath(config: AppConfig, rest: string): string {
  return `/admin/api/${encodeURIComponent(config.shopifyApiVersion)}/${rest.replace(/^\/+/, '')}`;
}

export type AdminRequest = {
  method?: 'GET' | 'POST' | 'DELETE' | 'PUT';
  path: string;
  body?: unknown;
  timeoutMs?: number;
};

function describeNetworkError(error: unknown, shopDomain: string, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `Shopify (${shopDomain}) did not answer within ${Math.round(timeoutMs / 100) / 10} s.`;
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : null;
  const code = cause && 'code' in cause && typeof cause.code === 'string' ? cause.code : null;
  const why =
    code === 'ECONNREFUSED'
      ? 'the connection was refused'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'the host name could not be resolved'
        : code === 'ECONNRESET'
          ? 'the connection was reset'
          : code
            ? `network error ${code}`
            : 'a network error';
  return `Could not reach Shopify (${shopDomain}): ${why}.`;
}

/** Sends one request; network failures and timeouts become ShopifyAdminError('unreachable'). */
export async function adminFetch(
  config: AppConfig,
  creds: { shopDomain: string; accessToken: string },
  request: AdminRequest,
): Promise<Response> {
  const timeoutMs = request.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const url = adminUrl(config, creds.shopDomain, request.path);
  const headers: Record<string, string> = {
    'X-Shopify-Access-Token': creds.accessToken,
    Accept: 'application/json',
  };
  if (request.body !== undefined) headers['Content-Type'] = 'application/json';
  try {
    return await fetch(url, {
      method: request.method ?? 'GET',
      headers,
      ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
  } catch (error) {
    throw new ShopifyAdminError('unreachable', describeNetworkError(error, creds.shopDomain, timeoutMs));
  }
}

/** Reads the body as text, turning a timeout while reading into 'unreachable'. */
export async function readText(response: Response, shopDomain: string): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    throw new ShopifyAdminError('unreachable', describeNetworkError(error, shopDomain, DEFAULT_TIMEOUT_MS));
  }
}

/**
 * The error for a non-2xx status, in an owner's words. `what` names the call ("reading the shop").
 * 404 means "unknown shop" only where the caller says so: on other paths it is a missing resource.
 */
export function statusError(
  response: Response,
  shopDomain: string,
  what: string,
  options: { notFoundIsUnknownShop?: boolean } = {},
): ShopifyAdminError {
  const s = response.status;
  if (s === 401) {
    return new ShopifyAdminError(
      'bad_token',
      `Shopify rejected the access token for ${shopDomain} (HTTP 401) while ${what}. Check the app's credentials, or reconnect the store if the app was uninstalled.`,
      s,
    );
  }
  if (s === 403) {
    return new ShopifyAdminError(
      'forbidden',
      `Shopify refused ${what} for ${shopDomain} (HTTP 403): the access token lacks a required permission.`,
      s,
    );
  }
  if (s === 404 && options.notFoundIsUnknownShop) {
    return new ShopifyAdminError(
      'unknown_shop',
      `No Shopify store answers at ${shopDomain} (HTTP 404). Check the shop domain (it looks like your-store.myshopify.com).`,
      s,
    );
  }
  if (s === 402 || s === 423) {
    return new ShopifyAdminError(
      'shop_unavailable',
      `The store ${shopDomain} is ${s === 402 ? 'frozen (unpaid plan)' : 'locked'} (HTTP ${s}); Shopify refuses API calls until it is reopened.`,
      s,
    );
  }
  if (s === 429) {
    return new ShopifyAdminError(
      'throttled',
      `Shopify rate-limited ${what} for ${shopDomain} (HTTP 429).`,
      s,
    );
  }
  if (s >= 300 && s < 400) {
    return new ShopifyAdminError(
      'unknown_shop',
      `Shopify redirected ${what} for ${shopDomain} (HTTP ${s}); the shop domain is probably not the store's myshopify.com domain.`,
      s,
    );
  }
  if (s >= 500) {
    return new ShopifyAdminError(
      'unreachable',
      `Shopify had a server error (HTTP ${s}) while ${what} for ${shopDomain}; try again later.`,
      s,
    );
  }
  return new ShopifyAdminError('api_error', `Shopify answered HTTP ${s} while ${what} for ${shopDomain}.`, s);
}

/** Parses a JSON body (big integer ids as strings), or throws an 'api_error' that says what was expected. */
export function parseJsonBody(text: string, shopDomain: string, what: string): unknown {
  try {
    return parseJsonLossless(text);
  } catch {
    throw new ShopifyAdminError(
      'api_error',
      `Shopify (${shopDomain}) answered ${what} with something that is not JSON; is the shop domain right?`,
    );
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
