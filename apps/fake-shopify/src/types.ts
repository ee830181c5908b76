import type { GqlOrder } from '@crm/shopify/admin-graphql';

export type FakeWebhook = {
  /** The numeric id (above 2^53); its GraphQL id is gid://shopify/WebhookSubscription/<id>. */
  id: string;
  /** REST-style topic, e.g. `orders/create` (GraphQL answers ORDERS_CREATE). */
  topic: string;
  address: string;
  format: string;
  api_version: string;
  created_at: string;
  updated_at: string;
};

/** A Dev Dashboard app of the merchant's own organization, installed on the shop (client credentials). */
export type FakeOwnApp = { clientId: string; clientSecret: string; scopes?: string[] };

export type FakeShopInput = {
  domain: string;
  name?: string;
  /** Static (legacy custom app) access tokens the shop accepts. */
  tokens?: string[];
  scopes?: string[];
  /** Orders in GraphQL shape; orderFromRest() builds them from REST/webhook JSON. */
  orders?: GqlOrder[];
  /** Apps of the merchant's organization installed on this shop: the client credentials grant works for them. */
  ownApps?: FakeOwnApp[];
};

/** An expiring access token the fake issued. */
export type IssuedToken = {
  shop: string;
  clientId: string;
  expiresAt: number | null;
  scopes: string[];
  /** The refresh token that minted it (rotation: its first use retires that refresh token). */
  from: string | null;
};

export type FakeShop = {
  domain: string;
  name: string;
  tokens: Set<string>;
  scopes: string[];
  orders: GqlOrder[];
  webhooks: Map<string, FakeWebhook>;
  ownApps: Map<string, FakeOwnApp>;
  /** Client ids of the distributed ("Connect with Shopify") app installed here. */
  installed: Set<string>;
  /**
   * `withheld`: the app is not approved for protected customer data, so Shopify answers customer
   * names, emails, phones and addresses with null and an ACCESS_DENIED error.
   */
  protectedCustomerData: 'granted' | 'withheld';
  /** Deletes the subscription of a topic, as Shopify does after repeated delivery failures. */
  dropWebhook: (topic: string) => boolean;
};

export type FakeOAuthApp = { clientId: string; clientSecret: string; name?: string };

export type TokenLifetimes = {
  /** Client credentials tokens (Shopify: 86399 s). */
  clientCredentialsSeconds: number;
  /** Expiring offline access tokens (Shopify: 3600 s). */
  accessSeconds: number;
  /** Refresh tokens (Shopify: 90 days). */
  refreshSeconds: number;
};

export type FakeShopifyOptions = {
  port?: number;
  host?: string;
  shops?: FakeShopInput[];
  /** The operator's distributed app ("Connect with Shopify"). */
  oauthApp?: FakeOAuthApp;
  tokenLifetimes?: Partial<TokenLifetimes>;
  /** The GraphQL cost bucket: Shopify's standard plan restores 100 points/s. */
  throttle?: { maximumAvailable?: number; restoreRate?: number };
  /** Delay before every answer (to make the client time out). */
  latencyMs?: number;
  /** Serves the /__fake/ control endpoints (control.ts), for a test runner in another process. */
  control?: boolean;
};

export type FakeRequestLog = { method: string; shop: string | null; path: string; status: number };

export type GrantCounts = {
  client_credentials: number;
  authorization_code: number;
  refresh_token: number;
};

export type FakeShopify = {
  /** http://host:port */
  url: string;
  /** The value for SHOPIFY_ADMIN_BASE_URL: http://host:port/{shop} */
  baseUrl: string;
  port: number;
  shops: Map<string, FakeShop>;
  shop: (domain: string) => FakeShop;
  addShop: (input: FakeShopInput) => FakeShop;
  /** The next n GraphQL requests find the bucket drained (another app used it) and answer THROTTLED. */
  throttleNext: (n: number) => void;
  /** Drains the bucket before the GraphQL request with this ordinal (1 = the first this fake serves; see stats.graphql). */
  throttleRequest: (ordinal: number) => void;
  setLatency: (ms: number) => void;
  /** The next n requests (any path) answer this HTTP status, as Shopify does during an incident. */
  failNext: (n: number, status?: number) => void;
  setTokenLifetimes: (lifetimes: Partial<TokenLifetimes>) => void;
  /** Every issued expiring access token expires now. */
  expireAccessTokens: () => void;
  /** Every issued expiring access token expires right after the GraphQL request with this ordinal (see stats.graphql). */
  expireAccessTokensAfter: (ordinal: number) => void;
  /** The next token grant is performed, then its answer is lost (the connection is cut). */
  loseNextGrantResponse: () => void;
  /**
   * Answers with this `X-Shopify-API-Version` whatever was asked (Shopify "falling forward" from a
   * version past support), and/or an `X-Shopify-API-Deprecated-Reason`; null restores echoing.
   */
  setVersionAnswer: (answer: { version?: string | null; deprecatedReason?: string | null }) => void;
  /**
   * The merchant uninstalls the app (a client id): its tokens stop working at once, and an
   * `app/uninstalled` webhook signed with the app's secret goes to its subscription, if any.
   */
  uninstall: (domain: string, clientId: string) => Promise<void>;
  requests: FakeRequestLog[];
  stats: { graphql: number; throttled: number; grants: GrantCounts; rest: number };
  /** Method and path of every REST Admin API request (answered 404). */
  restPaths: string[];
  /**
   * Stops the server, then fails if REST requests reached it: none, or as many as a test made on
   * purpose (`restRequestsExpected`).
   */
  close: (options?: { restRequestsExpected?: number }) => Promise<void>;
};

/** One answer of the fake: JSON (`body`) or a page (`html`). */
export type Reply = { status: number; body: unknown; headers?: Record<string, string>; html?: string };
