import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type CatalogProduct, mapOrder, parseOrder, parseWebhookPayload } from '../src/index.ts';
import { type FixtureName, fixtureBytes, SHARED_FIXTURES } from './helpers.ts';

// Expectations written by hand from the payloads.

describe('fixtures', () => {
  it.skipIf(!existsSync(SHARED_FIXTURES))('are the same bytes as ../shared/fixtures/shopify', () => {
    for (const name of ['orders-create.cod-co.json', 'orders-create.legacy-us.json'] as FixtureName[]) {
      expect(Buffer.from(fixtureBytes(name)).equals(readFileSync(new URL(name, SHARED_FIXTURES)))).toBe(true);
    }
  });
});

describe('orders-create.cod-co.json (COD order in Colombia, ids beyond 2^53)', () => {
  const bytes = fixtureBytes('orders-create.cod-co.json');

  it('parses with every digit of its ids', () => {
    const order = parseOrder(bytes);
    expect(order.id).toBe('6114532901234567891');
    expect(order.customer?.id).toBe('7294810023456789012');
    expect(order.line_items.map((l) => l.id)).toEqual(['15012345678901234', '15012345678901235']);
    expect(order.line_items[0]?.product_id).toBe('8012345678901');
    expect(order.line_items[0]?.price).toBe('59950.00');
    expect(order.line_items[0]?.discount_allocations).toEqual([{ amount: '10906.00' }]);
    expect(order.line_items[1]?.sku).toBeNull(); // "" is no sku
    expect(order.phone).toBeNull();
    expect(order.customer?.default_address?.phone).toBe('3001234567');
  });

  it('is an orders/create, orders/updated, orders/paid and orders/cancelled payload alike', () => {
    for (const topic of ['orders/create', 'orders/updated', 'orders/paid', 'orders/cancelled']) {
      const parsed = parseWebhookPayload(topic, bytes);
      expect(parsed.topic).toBe(topic);
      expect('id' in parsed.payload && parsed.payload.id).toBe('6114532901234567891');
    }
  });

  it('maps to the CRM order: discounts per line, unmatched gift line, total = sum of lines', () => {
    const catalogue: CatalogProduct[] = [
      { id: 'p-serum', sku: 'srm-vitc-30', title: 'Sérum Vitamina C 30 ml', price: '59950.00' },
      { id: 'p-other', sku: 'OTHER', title: 'Crema hidratante', price: '45000.00' },
    ];
    const mapped = mapOrder(parseOrder(bytes), {
      products: catalogue,
      strategy: 'sku',
      defaultCountry: 'CO',
    });
    expect(mapped).toEqual({
      shopifyOrderId: '6114532901234567891',
      shopifyOrderName: '#2043',
      financialStatus: 'pending',
      cancelledAt: null,
      shopifyUpdatedAt: '2026-02-04T20:57:03.000Z',
      description: [
        'Shopify #2043',
        'Nota: Entregar en portería',
        'Teléfono WhatsApp: 311 555 0142',
        'Barrio: Chapinero',
        'Pago: pending (Cash on Delivery (COD))',
        'Total Shopify: 161900.00 COP, envío 12000.00 COP (Envío estándar)',
      ].join('\n'),
      shippingAddress: 'Calle 63 # 9-45, Apto 502',
      shippingCity: 'Bogotá',
      shippingDepartment: 'Bogotá, D.C.',
      // 59950.00 × 2 − 10906.00 = 108994.00, and 45000.00 − 4094.00 = 40906.00
      totalValue: '149900.00',
      originalTotal: '149900.00',
      currency: 'COP',
      presentmentCurrency: null,
      presentmentTotal: null,
      tags: ['contraentrega', 'web'],
      test: false,
      lines: [
        {
          shopifyLineId: '15012345678901234',
          productId: 'p-serum',
          sku: 'SRM-VITC-30', // Shopify's sku, even where the catalogue writes it otherwise
          title: 'Sérum Vitamina C - 30 ml',
          unitPrice: '54497.00',
          quantity: 2,
          subtotal: '108994.00',
          originalQuantity: 2,
          originalSubtotal: '108994.00',
          matched: true,
        },
        {
          shopifyLineId: '15012345678901235',
          productId: null,
          sku: 'SHOPIFY-15012345678901235',
          title: 'Cosmetiquera de regalo',
          unitPrice: '40906.00',
          quantity: 1,
          subtotal: '40906.00',
          originalQuantity: 1,
          originalSubtotal: '40906.00',
          matched: false,
        },
      ],
      contact: {
        name: 'María José López Gutiérrez',
        // order.phone and customer.phone are null: the shipping address's "(300) 123-4567" comes first
        phone: '+573001234567',
        email: 'maria.lopez@example.com',
        address: 'Calle 63 # 9-45, Apto 502',
        city: 'Bogotá',
        department: 'Bogotá, D.C.',
        secondaryPhone: '+573115550142',
        secondaryEmail: null,
      },
      customerEmail: 'maria.lopez@example.com',
    });
  });

  it('matches nothing against an empty catalogue, and the total does not change', () => {
    const mapped = mapOrder(parseOrder(bytes), { products: [], strategy: 'sku', defaultCountry: 'CO' });
    expect(mapped.lines.map((l) => [l.sku, l.productId, l.matched])).toEqual([
      ['SRM-VITC-30', null, false], // unmatched, Shopify's sku all the same
      ['SHOPIFY-15012345678901235', null, false], // Shopify has none: a reference
    ]);
    expect(mapped.totalValue).toBe('149900.00');
  });
});

describe('orders-create.legacy-us.json (Shopify docs sample, USD)', () => {
  const bytes = fixtureBytes('orders-create.legacy-us.json');

  it('parses', () => {
    const order = parseOrder(bytes);
    expect(order.id).toBe('450789469');
    expect(order.name).toBe('#1001');
    expect(order.customer?.id).toBe('207119551');
    expect(order.line_items.map((l) => l.id)).toEqual(['466157049', '518995019', '703073504']);
    expect(
      order.line_items.every((l) => l.discount_allocations.length === 0 && l.total_discount === null),
    ).toBe(true);
    expect(order.payment_gateway_names).toEqual([]);
  });

  it('maps by name: exact variant names match, a missing variant stays unmatched', () => {
    const catalogue: CatalogProduct[] = [
      { id: 'p-green', sku: null, title: 'iPod Nano 8GB Green', price: '199.00' },
      { id: 'p-red', sku: 'IPOD-RED', title: 'IPod Nano - 8gb - red', price: '199.00' },
    ];
    const mapped = mapOrder(parseOrder(bytes), {
      products: catalogue,
      strategy: 'name',
      defaultCountry: 'US',
    });
    expect(mapped.lines).toEqual([
      {
        shopifyLineId: '466157049',
        productId: 'p-green',
        sku: 'IPOD2008GREEN', // the product has no sku: Shopify's is kept
        title: 'IPod Nano - 8gb - green',
        unitPrice: '199.00',
        quantity: 1,
        subtotal: '199.00',
        originalQuantity: 1,
        originalSubtotal: '199.00',
        matched: true,
      },
      {
        shopifyLineId: '518995019',
        productId: 'p-red',
        sku: 'IPOD2008RED', // Shopify's sku wins over the catalogue's
        title: 'IPod Nano - 8gb - red',
        unitPrice: '199.00',
        quantity: 1,
        subtotal: '199.00',
        originalQuantity: 1,
        originalSubtotal: '199.00',
        matched: true,
      },
      {
        shopifyLineId: '703073504',
        productId: null,
        sku: 'IPOD2008BLACK',
        title: 'IPod Nano - 8gb - black',
        unitPrice: '199.00',
        quantity: 1,
        subtotal: '199.00',
        originalQuantity: 1,
        originalSubtotal: '199.00',
        matched: false,
      },
    ]);
    // Three lines of 199.00 (the sample's own subtotal_price, 398.00, does not add up; ours does).
    expect(mapped.totalValue).toBe('597.00');
    expect(mapped.shopifyOrderName).toBe('#1001');
    expect(mapped.financialStatus).toBe('authorized');
    expect(mapped.shopifyUpdatedAt).toBe('2008-01-10T16:00:00.000Z');
    expect(mapped.description).toBe(
      [
        'Shopify #1001',
        'custom engraving: Happy Birthday',
        'colour: green',
        'Pago: authorized (authorize_net)',
        'Total Shopify: 409.94 USD, envío 0.00 USD (Free Shipping)',
      ].join('\n'),
    );
    expect(mapped.shippingAddress).toBe('Chestnut Street 92');
    expect(mapped.shippingCity).toBe('Louisville');
    expect(mapped.shippingDepartment).toBe('Kentucky');
    // 555-625-1199: area code 555 does not exist, so no valid phone anywhere in this order.
    expect(mapped.contact).toEqual({
      name: 'Bob Norman',
      phone: null,
      email: 'bob.norman@hostmail.com',
      address: 'Chestnut Street 92',
      city: 'Louisville',
      department: 'Kentucky',
      secondaryPhone: null,
      secondaryEmail: null,
    });
    expect(mapped.customerEmail).toBe('bob.norman@hostmail.com');
  });

  it('maps by value: every 199.00 line matches the first 199.00 product', () => {
    const catalogue: CatalogProduct[] = [
      { id: 'p-cheap', sku: 'C', title: 'Case', price: '19.90' },
      { id: 'p-199', sku: 'N', title: 'Nano', price: '199.01' },
    ];
    const mapped = mapOrder(parseOrder(bytes), {
      products: catalogue,
      strategy: 'value',
      defaultCountry: 'US',
    });
    expect(mapped.lines.map((l) => [l.productId, l.sku])).toEqual([
      ['p-199', 'IPOD2008GREEN'],
      ['p-199', 'IPOD2008RED'],
      ['p-199', 'IPOD2008BLACK'],
    ]);
  });
});
