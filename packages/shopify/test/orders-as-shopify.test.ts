import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gqlOrderSchema, graphqlOrderToRest } from '../src/admin-graphql/orders.ts';
import {
  formatMoney,
  type MappedOrder,
  mapOrder,
  parseMoney,
  parseOrder,
  parseWebhookPayload,
  ShopifyPayloadError,
} from '../src/index.ts';
import { spreadProportionally } from '../src/order-amounts.ts';
import { type FixtureName, fixtureBytes } from './helpers.ts';

// Issue #21: orders as Shopify really sends them. Expectations computed by hand from the fixtures.

const map = (name: FixtureName, defaultCountry = 'CO') =>
  mapOrder(parseOrder(fixtureBytes(name)), { products: [], strategy: 'sku', defaultCountry });
const mapJson = (order: Record<string, unknown>, defaultCountry = 'CO') =>
  mapOrder(parseOrder(JSON.stringify(order)), { products: [], strategy: 'sku', defaultCountry });

/** The invariant the database also keeps: the order's total is the sum of its lines. */
function expectLinesAddUp(mapped: MappedOrder) {
  const sum = (xs: string[]) => formatMoney(xs.reduce((a, x) => a + parseMoney(x), 0n));
  expect(sum(mapped.lines.map((l) => l.subtotal))).toBe(mapped.totalValue);
  expect(sum(mapped.lines.map((l) => l.originalSubtotal))).toBe(mapped.originalTotal);
}

describe('refunds (orders/updated after a refund)', () => {
  it('a partial refund brings quantities and total to Shopify current values, the original kept', () => {
    const mapped = map('orders-updated.partial-refund-us.json');
    expect(
      mapped.lines.map((l) => [l.sku, l.quantity, l.subtotal, l.originalQuantity, l.originalSubtotal]),
    ).toEqual([
      ['TEE-BLK-M', 1, '22.50', 4, '90.00'], // 3 of 4 refunded (67.50 of 90.00)
      ['MUG-01', 2, '25.00', 2, '25.00'],
    ]);
    expect(mapped.totalValue).toBe('47.50'); // Shopify's current_subtotal_price
    expect(mapped.originalTotal).toBe('115.00'); // Shopify's subtotal_price
    expect(mapped.lines[0]?.unitPrice).toBe('22.50');
    expect(mapped.description).toContain('Reembolsado: 67.50 USD de 115.00 USD');
    expect(mapped.description).toContain('Total Shopify: 52.50 USD'); // current_total_price
    expectLinesAddUp(mapped);
  });

  it('a fully refunded order is worth 0, every line at 0 units, the original amount still known', () => {
    const mapped = map('orders-updated.full-refund-us.json');
    expect(mapped.totalValue).toBe('0.00');
    expect(mapped.originalTotal).toBe('115.00');
    expect(mapped.lines.map((l) => [l.quantity, l.subtotal, l.unitPrice])).toEqual([
      [0, '0.00', '22.50'],
      [0, '0.00', '12.50'],
    ]);
    expect(mapped.cancelledAt).toBe('2026-03-06T14:00:00.000Z');
    expectLinesAddUp(mapped);
  });

  it('without current_quantity, refunded units come from the refund line items', () => {
    const order = JSON.parse(new TextDecoder().decode(fixtureBytes('orders-updated.partial-refund-us.json')));
    for (const line of order.line_items) delete line.current_quantity;
    const mapped = mapJson(order);
    expect(mapped.lines.map((l) => [l.quantity, l.subtotal])).toEqual([
      [1, '22.50'],
      [2, '25.00'],
    ]);
  });

  it('a refunded financial status means 0 due even if the refund lines are missing', () => {
    const mapped = mapJson({
      id: 1,
      financial_status: 'refunded',
      line_items: [{ id: 2, quantity: 2, price: '1379.90' }],
    });
    expect(mapped.totalValue).toBe('0.00');
    expect(mapped.originalTotal).toBe('2759.80');
  });
});

describe('an order-level discount Shopify did not allocate to the lines', () => {
  it('is spread over the lines in proportion: the total is what the customer pays for the goods', () => {
    const mapped = map('orders-create.order-discount-aud.json', 'AU');
    // 50.00 and 3 × 10.00, total_discounts 20.00 with no allocation: 12.50 and 7.50 of it.
    expect(mapped.lines.map((l) => [l.subtotal, l.unitPrice, l.quantity])).toEqual([
      ['37.50', '37.50', 1],
      ['22.50', '7.50', 3],
    ]);
    expect(mapped.totalValue).toBe('60.00'); // = subtotal_price
    expect(mapped.description).toContain('Descuento del pedido repartido entre las líneas: 20.00 AUD');
    expectLinesAddUp(mapped);
  });

  it('is not taken twice when the lines (or shipping lines) carry it already', () => {
    const cod = map('orders-create.cod-co.json');
    expect(cod.totalValue).toBe('149900.00');
    const shipping = mapJson({
      id: 1,
      total_discounts: '5.00',
      line_items: [{ id: 2, quantity: 1, price: '30.00' }],
      shipping_lines: [{ price: '5.00', discount_allocations: [{ amount: '5.00' }] }],
    });
    expect(shipping.totalValue).toBe('30.00');
  });

  it('a shipping discount seen only as discounted_price below price (GraphQL shapes) stays off the goods', () => {
    const mapped = mapJson({
      id: 1,
      total_discounts: '5.00',
      line_items: [{ id: 2, quantity: 1, price: '30.00' }],
      shipping_lines: [{ price: '5.00', discounted_price: '0.00' }],
    });
    expect(mapped.totalValue).toBe('30.00');
  });

  it('spreads exactly (largest remainders) and never more than a line is worth', () => {
    expect(spreadProportionally(1000n, [1000n, 1000n, 1000n])).toEqual([334n, 333n, 333n]);
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 9n }),
        fc.array(fc.bigInt({ min: 0n, max: 10n ** 8n })),
        (amount, weights) => {
          const shares = spreadProportionally(amount, weights);
          const total = weights.reduce((a, b) => a + b, 0n);
          // biome-ignore lint/complexity/useMathMinMax: bigints (Math.min takes numbers only)
          let expected = amount > total ? total : amount;
          if (total === 0n) expected = 0n;
          expect(shares.reduce((a, b) => a + b, 0n)).toBe(expected);
          shares.forEach((s, i) => {
            expect(s >= 0n && s <= (weights[i] ?? 0n)).toBe(true);
          });
        },
      ),
    );
  });

  it('keeps the invariant for any lines, discounts and refunds', () => {
    const line = fc.record({
      quantity: fc.integer({ min: 1, max: 50 }),
      price: fc.integer({ min: 0, max: 1_000_000 }),
      discount: fc.integer({ min: 0, max: 2_000_000 }),
      refunded: fc.integer({ min: 0, max: 60 }),
    });
    fc.assert(
      fc.property(
        fc.array(line, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 5_000_000 }),
        (lines, orderDiscount) => {
          const mapped = mapJson({
            id: 1,
            total_discounts: formatMoney(BigInt(orderDiscount + lines.reduce((a, l) => a + l.discount, 0))),
            line_items: lines.map((l, i) => ({
              id: i + 1,
              quantity: l.quantity,
              price: formatMoney(BigInt(l.price)),
              discount_allocations: [{ amount: formatMoney(BigInt(l.discount)) }],
            })),
            refunds: [
              {
                refund_line_items: lines.map((l, i) => ({
                  line_item_id: i + 1,
                  quantity: Math.min(l.refunded, l.quantity),
                })),
              },
            ],
          });
          expectLinesAddUp(mapped);
          for (const l of mapped.lines) {
            expect(
              parseMoney(l.subtotal) >= 0n && parseMoney(l.subtotal) <= parseMoney(l.originalSubtotal),
            ).toBe(true);
            expect(l.quantity >= 0 && l.quantity <= l.originalQuantity).toBe(true);
          }
        },
      ),
    );
  });
});

describe('currency, tags, test orders, second email', () => {
  it('keeps the shop currency and, when the customer paid in another, that currency and the goods in it', () => {
    const mapped = map('orders-create.order-discount-aud.json', 'AU');
    // 60.00 AUD of goods at the order's own rate (total 69.95 AUD = 45.85 USD): shipping is not goods.
    expect(mapped).toMatchObject({ currency: 'AUD', presentmentCurrency: 'USD', presentmentTotal: '39.33' });
    expect(map('orders-updated.partial-refund-us.json')).toMatchObject({
      currency: 'USD',
      presentmentCurrency: null,
      presentmentTotal: null,
    });
  });

  it('keeps tags (each once), the test flag, and customer.email as a second email when it differs', () => {
    const mapped = map('orders-create.order-discount-aud.json', 'AU');
    expect(mapped.tags).toEqual(['wholesale', 'vip']);
    expect(mapped.test).toBe(true);
    expect(mapped.contact.email).toBe('orders@harbourcafe.example');
    expect(mapped.contact.secondaryEmail).toBe('jane.doe@personal.example');
    expect(mapped.lines.map((l) => l.sku)).toEqual(['BEANS-1KG', 'SHOPIFY-31002']);
    const same = map('orders-updated.partial-refund-us.json');
    expect(same.contact.secondaryEmail).toBeNull(); // same email
    expect(same.test).toBe(false);
    expect(same.tags).toEqual([]);
  });
});

describe('money as Shopify counts it: goods only, in both currencies', () => {
  const base = {
    id: 1,
    currency: 'EUR',
    line_items: [
      { id: 2, quantity: 2, price: '30.00' },
      { id: 3, quantity: 1, price: '40.00' },
    ],
    shipping_lines: [{ price: '10.00', discounted_price: '10.00', discount_allocations: [] }],
  };

  it('the presentment amount is the goods in the customer currency, from subtotal_price_set when there is one', () => {
    const mapped = mapJson({
      ...base,
      subtotal_price: '100.00',
      subtotal_price_set: {
        shop_money: { amount: '100.00', currency_code: 'EUR' },
        presentment_money: { amount: '2150.00', currency_code: 'MXN' },
      },
      total_price_set: {
        shop_money: { amount: '110.00', currency_code: 'EUR' },
        presentment_money: { amount: '2365.00', currency_code: 'MXN' },
      },
    });
    expect(mapped).toMatchObject({
      totalValue: '100.00',
      currency: 'EUR',
      presentmentCurrency: 'MXN',
      presentmentTotal: '2150.00',
    });
  });

  it('a free-shipping code on a REST payload whose shipping line carries no allocation is not a goods discount', () => {
    const freeShipping = {
      ...base,
      total_discounts: '10.00',
      discount_codes: [{ code: 'ENVIOGRATIS', amount: '10.00', type: 'shipping' }],
    };
    expect(mapJson(freeShipping).totalValue).toBe('100.00');
    // the same told only by a discount application on shipping lines (100 %)
    const byApplication = {
      ...base,
      total_discounts: '10.00',
      discount_applications: [
        { target_type: 'shipping_line', value: '100.0', value_type: 'percentage', allocation_method: 'each' },
      ],
    };
    expect(mapJson(byApplication).totalValue).toBe('100.00');
    // and by subtotal_price alone: goods after every discount, before shipping
    expect(mapJson({ ...base, total_discounts: '10.00', subtotal_price: '100.00' }).totalValue).toBe(
      '100.00',
    );
    // a goods discount next to it is still taken off the goods
    const both = { ...freeShipping, total_discounts: '30.00' };
    const mapped = mapJson(both);
    expect(mapped.totalValue).toBe('80.00');
    expectLinesAddUp(mapped);
  });

  it('refunded shipping and order adjustments do not change the goods; Shopify current_subtotal_price does', () => {
    const refundedShipping = mapJson({
      ...base,
      financial_status: 'partially_refunded',
      current_subtotal_price: '100.00',
      refunds: [
        { refund_line_items: [], order_adjustments: [{ amount: '-10.00', kind: 'shipping_refund' }] },
      ],
    });
    expect(refundedShipping.totalValue).toBe('100.00');
    expect(refundedShipping.description).toContain(
      'Reembolsado fuera de las líneas (envío, ajustes): 10.00 EUR',
    );
    expect(refundedShipping.description).not.toContain('Reembolsado: ');

    // a refund Shopify counted against the goods without refund lines: the lines follow its current subtotal
    const goodwill = mapJson({
      ...base,
      financial_status: 'partially_refunded',
      current_subtotal_price: '75.00',
      refunds: [
        { refund_line_items: [], order_adjustments: [{ amount: '-25.00', kind: 'refund_discrepancy' }] },
      ],
    });
    expect(goodwill.totalValue).toBe('75.00');
    expect(goodwill.originalTotal).toBe('100.00');
    expect(goodwill.lines.map((l) => [l.quantity, l.subtotal])).toEqual([
      [2, '45.00'],
      [1, '30.00'],
    ]);
    expect(goodwill.description).toContain('Reembolsado: 25.00 EUR de 100.00 EUR');
    expectLinesAddUp(goodwill);
  });

  it('property: lines add up to the totals, never below 0 or above the original, whatever Shopify current subtotal says', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            quantity: fc.integer({ min: 1, max: 9 }),
            price: fc.integer({ min: 0, max: 100_000 }),
          }),
          {
            minLength: 1,
            maxLength: 6,
          },
        ),
        fc.integer({ min: -1, max: 1_000_000 }),
        fc.integer({ min: 0, max: 50_000 }),
        (lines, currentSubtotal, shippingRefund) => {
          const mapped = mapJson({
            id: 1,
            financial_status: 'partially_refunded',
            ...(currentSubtotal >= 0 ? { current_subtotal_price: formatMoney(BigInt(currentSubtotal)) } : {}),
            line_items: lines.map((l, i) => ({
              id: i + 1,
              quantity: l.quantity,
              price: formatMoney(BigInt(l.price)),
            })),
            refunds: [
              {
                order_adjustments: [
                  { amount: formatMoney(BigInt(-shippingRefund)), kind: 'shipping_refund' },
                ],
              },
            ],
          });
          expectLinesAddUp(mapped);
          const original = parseMoney(mapped.originalTotal);
          const total = parseMoney(mapped.totalValue);
          expect(total <= original && total >= 0n).toBe(true);
          if (currentSubtotal >= 0 && BigInt(currentSubtotal) <= original)
            expect(total).toBe(BigInt(currentSubtotal));
          for (const l of mapped.lines) {
            expect(
              parseMoney(l.subtotal) >= 0n && parseMoney(l.subtotal) <= parseMoney(l.originalSubtotal),
            ).toBe(true);
          }
        },
      ),
    );
  });
});

describe('hostile text and amounts (issue #22 items 4 and 5)', () => {
  it('takes NUL and unpaired surrogates out of every text of the order, so it can be stored', () => {
    const mapped = mapJson({
      id: 1,
      note: 'Dejar en porter\u0000ía',
      customer: { first_name: 'Ana\u0000', last_name: 'Ruiz\uD800' },
      shipping_address: { address1: 'Calle 1\u0000', city: 'Cali', country_code: 'CO' },
      note_attributes: [{ name: 'Barrio\u0000', value: '\u0000Centro' }],
      line_items: [{ id: 2, quantity: 1, price: '10.00', title: 'Gorra\u0000', sku: 'G\u00001' }],
    });
    const everything = JSON.stringify(mapped);
    expect(everything).not.toMatch(/\\u0000/);
    expect(mapped.contact.name).toBe('Ana Ruiz\uFFFD');
    expect(mapped.shippingAddress).toBe('Calle 1');
    expect(mapped.lines[0]).toMatchObject({ title: 'Gorra', sku: 'G1' });
    expect(mapped.description).toContain('Nota: Dejar en portería');
    expect(mapped.description).toContain('Barrio: Centro');
  });

  it('refuses a negative or non-numeric price with words that say so', () => {
    const body = (price: unknown) => JSON.stringify({ id: 1, line_items: [{ id: 2, quantity: 1, price }] });
    expect(() => parseWebhookPayload('orders/create', body('-59950.00'))).toThrow(
      /line_items\[0\]\.price: a negative price \(-59950\.00\)/,
    );
    expect(() => parseWebhookPayload('orders/create', body('abc'))).toThrow(ShopifyPayloadError);
    expect(() => parseWebhookPayload('orders/create', body(null))).toThrow(/line_items\[0\]\.price/);
    for (const quantity of [-1, 0, 1.5, 'x']) {
      const bad = JSON.stringify({ id: 1, line_items: [{ id: 2, quantity, price: '1.00' }] });
      expect(() => parseWebhookPayload('orders/create', bad)).toThrow(/line_items\[0\]\.quantity/);
    }
  });

  it('keeps refund amounts as Shopify sends them', () => {
    const order = parseOrder(fixtureBytes('orders-updated.partial-refund-us.json'));
    expect(order.refunds[0]?.refund_line_items[0]).toEqual({
      line_item_id: '14001',
      quantity: 3,
      subtotal: '67.50',
    });
  });
});

describe('orders read through the GraphQL Admin API (reconciliation)', () => {
  it('carry current quantities and the customer currency, so a refunded order stays refunded', () => {
    const money = (amount: string, currencyCode = 'AUD') => ({ shopMoney: { amount, currencyCode } });
    const node = gqlOrderSchema.parse({
      id: 'gid://shopify/Order/77',
      legacyResourceId: '77',
      name: '#77',
      createdAt: '2026-03-01T00:00:00Z',
      updatedAt: '2026-03-02T00:00:00Z',
      currencyCode: 'AUD',
      displayFinancialStatus: 'PARTIALLY_REFUNDED',
      totalPriceSet: { ...money('40.00'), presentmentMoney: { amount: '26.20', currencyCode: 'USD' } },
      lineItems: {
        nodes: [
          {
            id: 'gid://shopify/LineItem/1',
            title: 'Mug',
            quantity: 4,
            currentQuantity: 1,
            originalUnitPriceSet: money('10.00'),
          },
        ],
        pageInfo: { hasNextPage: false, endCursor: null },
      },
    });
    const mapped = mapJson(graphqlOrderToRest(node) as unknown as Record<string, unknown>);
    expect(mapped.lines.map((l) => [l.quantity, l.subtotal, l.originalQuantity])).toEqual([[1, '10.00', 4]]);
    expect(mapped).toMatchObject({
      totalValue: '10.00',
      presentmentCurrency: 'USD',
      presentmentTotal: '6.55', // 10.00 AUD of goods left, at 40.00 AUD = 26.20 USD
    });
  });

  it('follow Shopify current subtotal (a refund without refund lines) and convert the goods at its own rate', () => {
    const money = (amount: string, currencyCode = 'AUD') => ({ shopMoney: { amount, currencyCode } });
    const node = gqlOrderSchema.parse({
      id: 'gid://shopify/Order/78',
      legacyResourceId: '78',
      name: '#78',
      createdAt: '2026-03-01T00:00:00Z',
      updatedAt: '2026-03-02T00:00:00Z',
      currencyCode: 'AUD',
      displayFinancialStatus: 'PARTIALLY_REFUNDED',
      subtotalPriceSet: { ...money('40.00'), presentmentMoney: { amount: '26.00', currencyCode: 'USD' } },
      currentSubtotalPriceSet: {
        ...money('30.00'),
        presentmentMoney: { amount: '19.50', currencyCode: 'USD' },
      },
      totalPriceSet: { ...money('49.95'), presentmentMoney: { amount: '32.47', currencyCode: 'USD' } },
      lineItems: {
        nodes: [
          {
            id: 'gid://shopify/LineItem/1',
            title: 'Mug',
            quantity: 4,
            currentQuantity: 4,
            originalUnitPriceSet: money('10.00'),
          },
        ],
        pageInfo: { hasNextPage: false, endCursor: null },
      },
    });
    const mapped = mapJson(graphqlOrderToRest(node) as unknown as Record<string, unknown>);
    expect(mapped).toMatchObject({
      totalValue: '30.00',
      originalTotal: '40.00',
      presentmentCurrency: 'USD',
      presentmentTotal: '19.50',
    });
    expectLinesAddUp(mapped);
  });
});
