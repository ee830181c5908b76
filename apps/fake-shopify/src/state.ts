/**
 * The fake's mutable state (shops, request log, counters, the modes tests switch on) and the shops
 * it starts with.
 */
import type { TokenAuthority } from './oauth.ts';
import type {
  FakeRequestLog,
  FakeShop,
  FakeShopInput,
  FakeShopifyOptions,
  FakeWebhook,
  GrantCounts,
  TokenLifetimes,
} from './types.ts';

export const DEFAULT_FAKE_SCOPES = ['read_orders', 'read_customers', 'read_products'];
export const DEFAULT_LIFETIMES: TokenLifetimes = {
  clientCredentialsSeconds: 86_399,
  accessSeconds: 3_600,
  refreshSeconds: 7_776_000,
};

export type FakeStats = { graphql: number; throttled: number; grants: GrantCounts; rest: number };

export type FakeState = {
  options: FakeShopifyOptions;
  shops: Map<string, FakeShop>;
  requests: FakeRequestLog[];
  /** Paths of REST Admin API requests (answered 404): the suite's teardown fails on any. */
  restPaths: string[];
  lifetimes: TokenLifetimes;
  authority: TokenAuthority;
  stats: FakeStats;
  maximumAvailable: number;
  restoreRate: number;
  latencyMs: number;
  forcedThrottles: number;
  throttledOrdinals: Set<number>;
  failures: { left: number; status: number };
  loseGrant: boolean;
  expireAfterGraphql: number | null;
  versionAnswer: { version: string | null; deprecatedReason: string | null };
  /** Above 2^53, like the ids the client must not round. */
  nextWebhookId: bigint;
  /** One cost bucket per shop (Shopify: per app and store). */
  buckets: Map<string, { available: number; at: number }>;
};

export function makeShop(input: FakeShopInput): FakeShop {
  const webhooks = new Map<string, FakeWebhook>();
  return {
    domain: input.domain.toLowerCase(),
    name: input.name ?? input.domain.split('.')[0] ?? input.domain,
    tokens: new Set(input.tokens ?? []),
    scopes: input.scopes ?? [...DEFAULT_FAKE_SCOPES],
    orders: input.orders ?? [],
    webhooks,
    ownApps: new Map((input.ownApps ?? []).map((a) => [a.clientId, a])),
    installed: new Set(),
    protectedCustomerData: 'granted',
    dropWebhook: (topic) => {
      for (const [key, w] of webhooks) {
        if (w.topic === topic) return webhooks.delete(key);
      }
      return false;
    },
  };
}

export function createState(
  options: FakeShopifyOptions,
  lifetimes: TokenLifetimes,
  authority: TokenAuthority,
): FakeState {
  return {
    options,
    shops: new Map(),
    requests: [],
    restPaths: [],
    lifetimes,
    authority,
    stats: { graphql: 0, throttled: 0, grants: authority.grants, rest: 0 },
    maximumAvailable: options.throttle?.maximumAvailable ?? 1000,
    restoreRate: options.throttle?.restoreRate ?? 100,
    latencyMs: options.latencyMs ?? 0,
    forcedThrottles: 0,
    throttledOrdinals: new Set(),
    failures: { left: 0, status: 503 },
    loseGrant: false,
    expireAfterGraphql: null,
    versionAnswer: { version: null, deprecatedReason: null },
    nextWebhookId: 1_100_000_000_000_000_001n,
    buckets: new Map(),
  };
}

export function addShop(state: FakeState, input: FakeShopInput): FakeShop {
  const shop = makeShop(input);
  state.shops.set(shop.domain, shop);
  return shop;
}

export function bucketOf(state: FakeState, domain: string) {
  const now = Date.now();
  const b = state.buckets.get(domain) ?? { available: state.maximumAvailable, at: now };
  b.available = Math.min(state.maximumAvailable, b.available + ((now - b.at) / 1000) * state.restoreRate);
  b.at = now;
  state.buckets.set(domain, b);
  return b;
}
