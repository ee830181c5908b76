/** The demo store: the fake with a shop, its seeded token and a few orders from the fixtures. */
import type { GqlOrder } from '@crm/shopify/admin-graphql';
import { orderFromRest, readOrderFixture, variantOfOrder } from './orders-seed.ts';
import { type FakeShopify, type FakeShopifyOptions, startFakeShopify } from './server.ts';

export const DEMO_SHOP = 'demo-store.myshopify.com';
export const DEMO_ACCESS_TOKEN = 'shpat_0000000000_demo_store_token';

/**
 * A few orders for the demo store, built from the fixtures, updated over the last days (so a
 * "since last week" reconciliation finds them), with ids above 2^53.
 */
export function demoOrders(now = new Date()): GqlOrder[] {
  const cod = orderFromRest(readOrderFixture('orders-create.cod-co.json'));
  const legacy = orderFromRest(readOrderFixture('orders-create.legacy-us.json'));
  const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000).toISOString();
  const base = BigInt(cod.legacyResourceId);
  return [
    { ...cod, createdAt: daysAgo(3), updatedAt: daysAgo(3), processedAt: daysAgo(3) },
    variantOfOrder(legacy, { id: base + 7n, name: '#2044', updatedAt: daysAgo(2.5) }),
    variantOfOrder(cod, { id: base + 11n, name: '#2045', updatedAt: daysAgo(2) }),
    {
      ...variantOfOrder(cod, { id: base + 13n, name: '#2046', updatedAt: daysAgo(1) }),
      displayFinancialStatus: 'PAID',
    },
    {
      ...variantOfOrder(cod, { id: base + 17n, name: '#2047', updatedAt: daysAgo(0.5) }),
      cancelledAt: daysAgo(0.5),
      cancelReason: 'CUSTOMER',
      displayFinancialStatus: 'VOIDED',
    },
  ];
}

/** The fake with the demo store (its seeded token, default scopes, demoOrders()). */
export async function startDemoFakeShopify(
  options: Omit<FakeShopifyOptions, 'shops'> = {},
): Promise<FakeShopify> {
  return startFakeShopify({
    ...options,
    shops: [{ domain: DEMO_SHOP, name: 'Demo Store', tokens: [DEMO_ACCESS_TOKEN], orders: demoOrders() }],
  });
}
