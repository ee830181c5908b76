import type { AppConfig } from '../config.ts';

export type ShopCredentials = { shopDomain: string; accessToken: string };

export type ConnectionFailureReason = 'bad_token' | 'unknown_shop' | 'missing_scope' | 'unreachable';
export type ConnectionTestResult =
  | { ok: true; shopName: string; scopes: string[] }
  | { ok: false; reason: ConnectionFailureReason; message: string };

export const REQUIRED_SCOPES = ['read_orders', 'read_customers'] as const;

/** GET shop.json and access_scopes.json. STUB — issue #5. */
export async function testConnection(
  _config: AppConfig,
  _creds: ShopCredentials,
): Promise<ConnectionTestResult> {
  throw new Error('testConnection: not implemented yet');
}

export type WebhookSubscription = { id: string; topic: string; address: string };
export type SubscriptionHealth = { topic: string; present: boolean; recreated: boolean }[];

/** Registers every topic the product needs at `address`. STUB — issue #5. */
export async function registerWebhooks(
  _config: AppConfig,
  _creds: ShopCredentials,
  _address: string,
): Promise<WebhookSubscription[]> {
  throw new Error('registerWebhooks: not implemented yet');
}

/** Finds missing subscriptions and re-creates them. STUB — issue #5. */
export async function ensureWebhookSubscriptions(
  _config: AppConfig,
  _creds: ShopCredentials,
  _address: string,
): Promise<SubscriptionHealth> {
  throw new Error('ensureWebhookSubscriptions: not implemented yet');
}
