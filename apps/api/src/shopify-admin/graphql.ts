/**
 * GraphQL Admin API calls with Shopify's cost-based rate limit honoured.
 *
 * Every response carries `extensions.cost.throttleStatus {maximumAvailable, currentlyAvailable,
 * restoreRate}`. A request whose requested cost exceeds what is available answers a `THROTTLED` error
 * (HTTP 200, or 429 on some paths): we wait until the bucket has refilled enough and retry. After a
 * success we also wait before the next call when the bucket is too low for it, so a long backfill
 * runs at the restore rate instead of bouncing off the limit.
 */
import type { z } from 'zod';
import type { AppConfig } from '../config.ts';
import {
  adminFetch,
  currentToken,
  parseJsonBody,
  readText,
  type ShopCredentials,
  ShopifyAdminError,
  sleep,
  statusError,
  versionedPath,
} from './http.ts';

export type ThrottleStatus = { maximumAvailable: number; currentlyAvailable: number; restoreRate: number };
export type QueryCost = {
  requestedQueryCost: number | null;
  actualQueryCost: number | null;
  throttleStatus: ThrottleStatus | null;
};

export type GraphqlOptions = {
  timeoutMs?: number;
  /** How many THROTTLED answers in a row we wait out before giving up. */
  maxThrottleRetries?: number;
  /** Longest single wait, in ms. */
  maxWaitMs?: number;
  /** Called before each wait (progress, tests). */
  onThrottle?: (info: { waitMs: number; attempt: number }) => void;
  /** Injected in tests; defaults to setTimeout. */
  sleep?: (ms: number) => Promise<void>;
  /** Told when Shopify answered another API version than asked (fell forward) or flagged deprecated use. */
  onApiWarning?: (warning: string) => void;
};

/** An error Shopify returned beside (partial) data, for operations that accept them. */
export type PartialError = { message: string; code: string | null; path: (string | number)[] };

export type GraphqlResult<T> = { data: T; cost: QueryCost | null; partialErrors: PartialError[] };

/**
 * The owner-readable warning for a response's version headers: Shopify serves a version past its
 * support as the oldest supported one and says so in X-Shopify-API-Version; deprecated fields used
 * are listed in X-Shopify-API-Deprecated-Reason.
 */
export function apiVersionWarning(asked: string, headers: Headers): string | null {
  const served = headers.get('x-shopify-api-version');
  if (served && served !== asked) {
    return `Shopify answered with API version ${served} instead of ${asked}: ${asked} is past its support. Set SHOPIFY_API_VERSION to a supported version (${served} or later).`;
  }
  const deprecated = headers.get('x-shopify-api-deprecated-reason');
  if (deprecated) return `Shopify reports deprecated API use on version ${asked}: ${deprecated}.`;
  return null;
}

/** Tells the caller, and a stored integration's token source, about a version warning in an answer. */
async function reportVersionWarning(
  asked: string,
  headers: Headers,
  creds: ShopCredentials,
  options: { onApiWarning?: (warning: string) => void },
): Promise<void> {
  const warning = apiVersionWarning(asked, headers);
  if (!warning) return;
  options.onApiWarning?.(warning);
  if ('tokens' in creds) await creds.tokens.reportApiWarning?.(warning);
}

const MAX_SERVER_ERROR_RETRIES = 4;

type GraphqlError = { message?: unknown; extensions?: { code?: unknown } | null; path?: unknown };

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function readCost(body: unknown): QueryCost | null {
  if (!body || typeof body !== 'object') return null;
  const ext = (body as { extensions?: unknown }).extensions;
  const cost = ext && typeof ext === 'object' ? (ext as { cost?: unknown }).cost : undefined;
  if (!cost || typeof cost !== 'object') return null;
  const c = cost as Record<string, unknown>;
  const t =
    c.throttleStatus && typeof c.throttleStatus === 'object'
      ? (c.throttleStatus as Record<string, unknown>)
      : null;
  const maximumAvailable = num(t?.maximumAvailable);
  const currentlyAvailable = num(t?.currentlyAvailable);
  const restoreRate = num(t?.restoreRate);
  return {
    requestedQueryCost: num(c.requestedQueryCost),
    actualQueryCost: num(c.actualQueryCost),
    throttleStatus:
      maximumAvailable !== null && currentlyAvailable !== null && restoreRate !== null
        ? { maximumAvailable, currentlyAvailable, restoreRate }
        : null,
  };
}

/** Milliseconds until the bucket holds `needed` points (at least a short pause). */
export function waitForCost(cost: QueryCost | null, needed: number | null, maxWaitMs: number): number {
  const t = cost?.throttleStatus;
  const want = Math.min(
    needed ?? cost?.requestedQueryCost ?? 50,
    t?.maximumAvailable ?? Number.POSITIVE_INFINITY,
  );
  if (!t || t.restoreRate <= 0) return Math.min(1000, maxWaitMs);
  const missing = Math.max(0, want - t.currentlyAvailable);
  return Math.min(maxWaitMs, Math.max(50, Math.ceil((missing / t.restoreRate) * 1000)));
}

function errorsOf(body: unknown): GraphqlError[] {
  if (!body || typeof body !== 'object') return [];
  const errors = (body as { errors?: unknown }).errors;
  if (Array.isArray(errors)) return errors.filter((e): e is GraphqlError => !!e && typeof e === 'object');
  // REST-style `{"errors": "..."}` (e.g. on 401) — treated as one error.
  if (typeof errors === 'string') return [{ message: errors }];
  return [];
}

const codeOf = (e: GraphqlError): string | null =>
  e.extensions && typeof e.extensions.code === 'string' ? e.extensions.code : null;

/** One GraphQL operation against `/admin/api/<version>/graphql.json`, throttling handled. */
export async function adminGraphql<T>(
  config: AppConfig,
  creds: ShopCredentials,
  operation: {
    query: string;
    variables?: Record<string, unknown>;
    what: string;
    data: z.ZodType<T>;
    /** Errors with these codes come back in partialErrors beside the data instead of failing the call. */
    partialCodes?: string[];
  },
  options: GraphqlOptions = {},
): Promise<GraphqlResult<T>> {
  const maxRetries = options.maxThrottleRetries ?? 20;
  const maxWaitMs = options.maxWaitMs ?? 30_000;
  const wait = options.sleep ?? sleep;
  let renewed = false;
  let accessToken = await currentToken(creds);
  for (let attempt = 1; ; attempt++) {
    const response = await adminFetch(
      config,
      { shopDomain: creds.shopDomain, accessToken },
      {
        method: 'POST',
        path: versionedPath(config, 'graphql.json'),
        body: { query: operation.query, variables: operation.variables ?? {} },
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      },
    );
    const text = await readText(response, creds.shopDomain);
    if (response.status === 401 && 'tokens' in creds && !renewed) {
      // Expired or revoked: renew once (single-flight across processes) and try again.
      renewed = true;
      accessToken = await creds.tokens.renew(accessToken);
      continue;
    }
    await reportVersionWarning(config.shopifyApiVersion, response.headers, creds, options);
    if (response.status === 429 || (response.status >= 500 && response.status !== 501)) {
      // Rate limited at the HTTP level, or a transient server error: back off and retry (server
      // errors a few times only: a store that keeps failing is reported, not waited on for minutes).
      const limit = response.status === 429 ? maxRetries : Math.min(maxRetries, MAX_SERVER_ERROR_RETRIES);
      if (attempt > limit) throw statusError(response, creds.shopDomain, operation.what);
      const retryAfter = Number(response.headers.get('retry-after'));
      const waitMs =
        Number.isFinite(retryAfter) && retryAfter > 0
          ? Math.min(maxWaitMs, retryAfter * 1000)
          : Math.min(maxWaitMs, 500 * 2 ** Math.min(attempt - 1, 6));
      options.onThrottle?.({ waitMs, attempt });
      await wait(waitMs);
      continue;
    }
    if (!response.ok) {
      throw statusError(response, creds.shopDomain, operation.what, { notFoundIsUnknownShop: true });
    }
    const body = parseJsonBody(text, creds.shopDomain, operation.what);
    const cost = readCost(body);
    const errors = errorsOf(body);
    if (errors.some((e) => codeOf(e) === 'THROTTLED')) {
      if (attempt > maxRetries) {
        throw new ShopifyAdminError(
          'throttled',
          `Shopify kept rate-limiting ${operation.what} for ${creds.shopDomain} after ${maxRetries} waits.`,
        );
      }
      const waitMs = waitForCost(cost, cost?.requestedQueryCost ?? null, maxWaitMs);
      options.onThrottle?.({ waitMs, attempt });
      await wait(waitMs);
      continue;
    }
    const partial = operation.partialCodes ?? [];
    const fatal = errors.filter((e) => !partial.includes(codeOf(e) ?? ''));
    if (fatal.length > 0) {
      const denied = fatal.find((e) => codeOf(e) === 'ACCESS_DENIED');
      const first = denied ?? fatal[0];
      const message = typeof first?.message === 'string' ? first.message : 'unknown error';
      throw new ShopifyAdminError(
        denied ? 'forbidden' : 'api_error',
        `Shopify refused ${operation.what} for ${creds.shopDomain}: ${message}`,
      );
    }
    const data = body && typeof body === 'object' ? (body as { data?: unknown }).data : undefined;
    const parsed = operation.data.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ShopifyAdminError(
        'api_error',
        `Shopify answered ${operation.what} with unexpected data${issue ? ` (${issue.path.join('.')}: ${issue.message})` : ''}.`,
      );
    }
    const partialErrors = errors.map((e) => ({
      message: typeof e.message === 'string' ? e.message : '',
      code: codeOf(e),
      path: Array.isArray(e.path) ? e.path.filter((p): p is string | number => typeof p !== 'object') : [],
    }));
    return { data: parsed.data, cost, partialErrors };
  }
}
