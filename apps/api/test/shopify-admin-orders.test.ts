/**
 * GraphQL order nodes → the REST/webhook order shape, and paging orders through the fake's GraphQL
 * endpoint (cursor pages, line items beyond the first page, THROTTLED answers waited out).
 */

import {
  type FakeShopify,
  orderFromRest,
  readOrderFixture,
  startFakeShopify,
  variantOfOrder,
} from '@crm/fake-shopify';
import { shopifyOrderSchema } from '@crm/shopify';
import { type GqlOrder, gidToId, gqlOrderSchema, graphqlOrderToRest } from '@crm/shopify/admin-graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppConfig, loadConfig } from '../src/config.ts';
import { ShopifyAdminError } from '../src/shopify-admin/http.ts';
import { fetchOrdersPage, ordersUpdatedSince, updatedSinceQuery } from '../src/shopify-admin/orders.ts';

/** A GraphQL order node as Shopify's GraphQL Admin API writes it (hand-written, not derived). */
const NODE = {
  id: 'gid://shopify/Order/6114532901234567891',
  legacyResourceId: '6114532901234567891',
  name: '#2043',
  email: 'maria.lopez@example.com',
  phone: null,
  createdAt: '2026-02-04T20:57:02Z',
  updatedAt: '2026-02-04T20:57:03Z',
  processedAt: '2026-02-04T20:57:01Z',
  cancelledAt: null,
  cancelReason: null,
  closedAt: null,
  currencyCode: 'COP',
  displayFinancialStatus: 'PARTIALLY_PAID',
  displayFulfillmentStatus: 'PARTIALLY_FULFILLED',
  paymentGatewayNames: ['Cash on Delivery (COD)'],
  tags: ['contraentrega', 'web'],
  note: 'Entregar en portería',
  test: false,
  taxesIncluded: true,
  discountCodes: ['BIENVENIDA'],
  customAttributes: [{ key: 'Teléfono WhatsApp', value: '311 555 0142' }],
  subtotalPriceSet: { shopMoney: { amount: '149900.0', currencyCode: 'COP' } },
  totalPriceSet: { shopMoney: { amount: '161900.0', currencyCode: 'COP' } },
  totalDiscountsSet: { shopMoney: { amount: '15000.0', currencyCode: 'COP' } },
  totalTaxSet: { shopMoney: { amount: '0.0', currencyCode: 'COP' } },
  totalShippingPriceSet: { shopMoney: { amount: '12000.0', currencyCode: 'COP' } },
  customer: {
    legacyResourceId: '7294810023456789012',
    firstName: 'María José',
    lastName: 'López Gutiérrez',
    defaultEmailAddress: { emailAddress: 'maria.lopez@example.com' },
    defaultPhoneNumber: null,
    defaultAddress: {
      firstName: 'María José',
      lastName: 'López Gutiérrez',
      name: 'María José López Gutiérrez',
      company: null,
      address1: 'Calle 63 # 9-45',
      address2: 'Apto 502',
      city: 'Bogotá',
      province: 'Bogotá, D.C.',
      provinceCode: 'DC',
      country: 'Colombia',
      countryCodeV2: 'CO',
      zip: '110231',
      phone: '3001234567',
    },
  },
  billingAddress: null,
  shippingAddress: {
    firstName: 'María José',
    lastName: 'López Gutiérrez',
    name: null,
    company: null,
    address1: 'Calle 63 # 9-45',
    address2: 'Apto 502',
    city: 'Bogotá',
    province: 'Bogotá, D.C.',
    provinceCode: 'DC',
    country: 'Colombia',
    countryCodeV2: 'CO',
    zip: '110231',
    phone: '(300) 123-4567',
  },
  lineItems: {
    nodes: [
      {
        id: 'gid://shopify/LineItem/15012345678901234',
        sku: 'SRM-VITC-30',
        title: 'Sérum Vitamina C',
        variantTitle: '30 ml',
        name: 'Sérum Vitamina C - 30 ml',
        vendor: 'Demo Store',
        quantity: 2,
        requiresShipping: true,
        taxable: true,
        originalUnitPriceSet: { shopMoney: { amount: '59950.0', currencyCode: 'COP' } },
        totalDiscountSet: { shopMoney: { amount: '0.0', currencyCode: 'COP' } },
        discountAllocations: [
          {
            allocatedAmountSet: { shopMoney: { amount: '10906.0', currencyCode: 'COP' } },
            discountApplication: { index: 0 },
          },
        ],
      },
    ],
    pageInfo: { hasNextPage: false, endCursor: null },
  },
  shippingLines: {
    nodes: [
      {
        id: 'gid://shopify/ShippingLine/5074147803210',
        title: 'Envío estándar',
        code: 'Envío estándar',
        source: 'shopify',
        originalPriceSet: { shopMoney: { amount: '12000.0', currencyCode: 'COP' } },
        discountedPriceSet: { shopMoney: { amount: '12000.0', currencyCode: 'COP' } },
      },
    ],
  },
};

describe('GraphQL order → REST-shaped ShopifyOrder', () => {
  it('maps a node field by field, keeping ids above 2^53 exact', () => {
    const rest = graphqlOrderToRest(gqlOrderSchema.parse(NODE));
    expect(rest).toMatchObject({
      id: '6114532901234567891',
      admin_graphql_api_id: 'gid://shopify/Order/6114532901234567891',
      name: '#2043',
      order_number: 2043,
      financial_status: 'partially_paid',
      fulfillment_status: 'partial',
      gateway: 'Cash on Delivery (COD)',
      total_price: '161900.0',
      total_discounts: '15000.0',
      tags: 'contraentrega, web',
      note_attributes: [{ name: 'Teléfono WhatsApp', value: '311 555 0142' }],
      discount_codes: [{ code: 'BIENVENIDA' }],
      customer: {
        id: '7294810023456789012',
        email: 'maria.lopez@example.com',
        phone: null,
        default_address: { city: 'Bogotá', country_code: 'CO', phone: '3001234567' },
      },
      billing_address: null,
      shipping_address: { name: 'María José López Gutiérrez', province_code: 'DC', phone: '(300) 123-4567' },
      line_items: [
        {
          id: '15012345678901234',
          sku: 'SRM-VITC-30',
          quantity: 2,
          price: '59950.0',
          total_discount: '0.0',
          discount_allocations: [{ amount: '10906.0', discount_application_index: 0 }],
        },
      ],
      shipping_lines: [{ id: '5074147803210', price: '12000.0', discounted_price: '12000.0' }],
    });
  });

  it('the mapped order passes the shared order schema with the same ids and exact money', () => {
    const order = shopifyOrderSchema.parse(graphqlOrderToRest(gqlOrderSchema.parse(NODE)));
    expect(order.id).toBe('6114532901234567891');
    expect(order.customer?.id).toBe('7294810023456789012');
    expect(order.line_items[0]?.id).toBe('15012345678901234');
    expect(order.line_items[0]?.price).toBe('59950.00');
    expect(order.line_items[0]?.discount_allocations).toEqual([{ amount: '10906.00' }]);
    expect(order.total_price).toBe('161900.00');
  });

  it('a fixture survives REST → GraphQL (the fake) → REST (the client) unchanged where it matters', () => {
    const fixture = shopifyOrderSchema.parse(readOrderFixture('orders-create.cod-co.json'));
    const roundTrip = shopifyOrderSchema.parse(
      graphqlOrderToRest(orderFromRest(readOrderFixture('orders-create.cod-co.json'))),
    );
    expect(roundTrip.id).toBe('6114532901234567891');
    // product_id / variant_id are not fetched (nothing downstream reads them; they cost query points).
    const withoutProductIds = (lines: typeof fixture.line_items) =>
      lines.map(({ product_id: _p, variant_id: _v, ...rest }) => rest);
    expect(withoutProductIds(roundTrip.line_items)).toEqual(withoutProductIds(fixture.line_items));
    for (const key of [
      'id',
      'name',
      'email',
      'phone',
      'financial_status',
      'total_price',
      'note',
      'note_attributes',
      'shipping_address',
      'billing_address',
    ] as const) {
      expect(roundTrip[key], key).toEqual(fixture[key]);
    }
    expect(roundTrip.customer?.id).toBe(fixture.customer?.id);
    expect(roundTrip.customer?.email).toBe(fixture.customer?.email);
  });

  it('gidToId takes the numeric tail', () => {
    expect(gidToId('gid://shopify/LineItem/18446744073709551615')).toBe('18446744073709551615');
    expect(() => gidToId('gid://shopify/LineItem/abc')).toThrow();
  });
});

describe('paging orders through GraphQL', () => {
  const SHOP = 'pager.myshopify.com';
  const TOKEN = 'shpat_pager_token_0001';
  const creds = { shopDomain: SHOP, accessToken: TOKEN };
  let fake: FakeShopify;
  let config: AppConfig;
  let orders: GqlOrder[];

  beforeAll(async () => {
    const cod = orderFromRest(readOrderFixture('orders-create.cod-co.json'));
    const base = BigInt(cod.legacyResourceId);
    orders = Array.from({ length: 7 }, (_, i) =>
      variantOfOrder(cod, {
        id: base + BigInt(i),
        name: `#${3000 + i}`,
        updatedAt: new Date(Date.UTC(2026, 2, 1 + i)).toISOString(),
      }),
    );
    // One order with five lines, to page its line items.
    const big = orders[3];
    if (!big) throw new Error('no order 3');
    const line = big.lineItems.nodes[0];
    if (!line) throw new Error('no line');
    big.lineItems.nodes = Array.from({ length: 5 }, (_, i) => ({
      ...line,
      id: `gid://shopify/LineItem/${9_007_199_254_740_993n + BigInt(i)}`,
      sku: `SKU-${i}`,
    }));
    fake = await startFakeShopify({
      shops: [{ domain: SHOP, tokens: [TOKEN], orders }],
      throttle: { maximumAvailable: 1000, restoreRate: 20_000 },
    });
    config = { ...loadConfig({}), shopifyAdminBaseUrl: fake.baseUrl, webDist: null };
  });
  afterAll(async () => {
    await fake.close();
  });

  it('the search query asks for updates at or after the date', () => {
    expect(updatedSinceQuery(new Date('2026-03-01T00:00:00Z'))).toBe(
      "updated_at:>='2026-03-01T00:00:00.000Z'",
    );
  });

  it('walks every page, oldest update first, with complete line items, through THROTTLED answers', async () => {
    fake.throttleRequest(fake.stats.graphql + 2);
    const throttled = fake.stats.throttled;
    const waits: number[] = [];
    const seen: string[] = [];
    let pages = 0;
    for await (const page of ordersUpdatedSince(config, creds, new Date('2026-03-02T00:00:00Z'), {
      pageSize: 2,
      linesPageSize: 2,
      onThrottle: ({ waitMs }) => waits.push(waitMs),
    })) {
      pages++;
      for (const o of page.orders) seen.push(o.id);
      const big = page.orders.find((o) => o.name === '#3003');
      if (big) {
        expect(big.line_items.map((l) => l.id)).toEqual(
          Array.from({ length: 5 }, (_, i) => String(9_007_199_254_740_993n + BigInt(i))),
        );
      }
    }
    // Orders 1..6 were updated on or after March 2 (order 0 on March 1).
    expect(seen).toEqual(orders.slice(1).map((o) => o.legacyResourceId));
    expect(pages).toBe(3);
    expect(fake.stats.throttled).toBeGreaterThan(throttled);
    expect(waits.length).toBeGreaterThan(0);
  });

  it('retries a Shopify server error a few times, then reports it', async () => {
    fake.failNext(2, 503);
    const waits: number[] = [];
    const page = await fetchOrdersPage(config, creds, new Date(0), {
      pageSize: 1,
      onThrottle: ({ waitMs }) => waits.push(waitMs),
      sleep: async () => {},
    });
    expect(page.orders).toHaveLength(1);
    expect(waits).toHaveLength(2);

    fake.failNext(10, 502);
    const error = await fetchOrdersPage(config, creds, new Date(0), { sleep: async () => {} }).catch(
      (e: unknown) => e,
    );
    fake.failNext(0);
    expect(error).toBeInstanceOf(ShopifyAdminError);
    expect((error as ShopifyAdminError).kind).toBe('unreachable');
    expect((error as Error).message).toMatch(/server error \(HTTP 502\)/);
  });

  it('a bad token stops with a bad_token error', async () => {
    const error = await fetchOrdersPage(
      config,
      { shopDomain: SHOP, accessToken: 'shpat_nope_0000' },
      new Date(0),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShopifyAdminError);
    expect((error as ShopifyAdminError).kind).toBe('bad_token');
  });

  it('gives up with a throttled error when the bucket never refills', async () => {
    fake.throttleNext(3);
    const error = await fetchOrdersPage(config, creds, new Date(0), { maxThrottleRetries: 2 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ShopifyAdminError);
    expect((error as ShopifyAdminError).kind).toBe('throttled');
  });
});
