import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseJsonLossless,
  parseOrder,
  parseWebhookPayload,
  SHOPIFY_TOPICS,
  ShopifyPayloadError,
  shopifyOrderSchema,
  validateOrder,
} from '../src/index.ts';

const minimalOrder = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ id: 1001, line_items: [{ id: 1, quantity: 1, price: '10.00' }], ...over });

function payloadError(fn: () => unknown): ShopifyPayloadError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ShopifyPayloadError) return err;
    throw err;
  }
  throw new Error('expected a ShopifyPayloadError');
}

describe('parseJsonLossless', () => {
  it('keeps integers beyond 2^53 as their digits and the rest as numbers', () => {
    expect(parseJsonLossless('{"a":9007199254740993,"b":12,"c":59950.00,"d":[-1.5,"x",null,true]}')).toEqual({
      a: '9007199254740993',
      b: 12,
      c: 59950,
      d: [-1.5, 'x', null, true],
    });
    expect(JSON.parse('9007199254740993')).toBe(9007199254740992); // what it protects from
  });

  it('throws SyntaxError on what is not JSON, and keeps the last of duplicate keys like JSON.parse', () => {
    expect(() => parseJsonLossless('{"a":')).toThrow(SyntaxError);
    expect(() => parseJsonLossless('')).toThrow(SyntaxError);
    expect(parseJsonLossless('{"a":1,"a":2}')).toEqual({ a: 2 });
  });

  it('ignores one leading byte order mark (RFC 8259 §8.1), not two, and none elsewhere', () => {
    expect(parseJsonLossless('\uFEFF{"id":6114532901234567891}')).toEqual({ id: '6114532901234567891' });
    expect(() => parseJsonLossless('\uFEFF\uFEFF{}')).toThrow(SyntaxError);
    expect(() => parseJsonLossless('{}\uFEFF')).toThrow(SyntaxError);
  });

  it('keeps a "__proto__" key as data', () => {
    const value = parseJsonLossless('{"__proto__":{"polluted":1}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('order schema: tolerant of what Shopify sends', () => {
  it('accepts a minimal order and fills in nulls and empty lists', () => {
    const order = parseOrder(minimalOrder());
    expect(order).toMatchObject({
      id: '1001',
      name: null,
      email: null,
      customer: null,
      shipping_address: null,
      note_attributes: [],
      shipping_lines: [],
      payment_gateway_names: [],
      test: false,
    });
    expect(order.line_items[0]).toMatchObject({
      id: '1',
      quantity: 1,
      price: '10.00',
      sku: null,
      discount_allocations: [],
    });
  });

  it('reads nulls, "" and numbers where strings are usual', () => {
    const order = parseOrder(
      minimalOrder({
        id: '6114532901234567891',
        email: '',
        phone: null,
        note: '  ',
        customer: { id: null, first_name: 'Ana', phone: 3001234567, default_address: null },
        shipping_address: { zip: 110231, city: 'Bogotá', address2: '' },
        total_price: 161900,
        line_items: [
          {
            id: '15012345678901234',
            quantity: '2',
            price: 59950,
            total_discount: '',
            discount_allocations: null,
          },
        ],
      }),
    );
    expect(order.id).toBe('6114532901234567891');
    expect(order.email).toBeNull();
    expect(order.note).toBeNull();
    expect(order.customer).toMatchObject({ id: null, first_name: 'Ana', phone: '3001234567' });
    expect(order.shipping_address).toMatchObject({ zip: '110231', city: 'Bogotá', address2: null });
    expect(order.total_price).toBe('161900.00');
    expect(order.line_items[0]).toMatchObject({ quantity: 2, price: '59950.00', total_discount: null });
  });

  it('takes ids from admin_graphql_api_id, so a payload that went through JSON.parse keeps them', () => {
    const damaged = JSON.parse(
      '{"id":6114532901234567891,"admin_graphql_api_id":"gid://shopify/Order/6114532901234567891",' +
        '"line_items":[{"id":15012345678901234,"admin_graphql_api_id":"gid://shopify/LineItem/15012345678901234","quantity":1,"price":"1.00"}]}',
    );
    const order = validateOrder(damaged);
    expect(order.id).toBe('6114532901234567891');
    expect(order.line_items[0]?.id).toBe('15012345678901234');
  });

  it('refuses an id that lost its digits to JSON.parse, rather than keeping a wrong one', () => {
    const err = payloadError(() => validateOrder(JSON.parse('{"id":6114532901234567891,"line_items":[]}')));
    expect(err.issues[0]?.path).toBe('id');
    expect(err.message).toMatch(/^id: .*lost digits/);
  });
});

describe('order schema: refuses what cannot be an order, naming the field', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['no id', { id: undefined }, 'id: expected a Shopify id'],
    ['an id that is not digits', { id: 'abc' }, 'id: expected a Shopify id (digits)'],
    ['no line items', { line_items: undefined }, 'line_items: expected a list of line items'],
    ['line items that are not a list', { line_items: {} }, 'line_items: expected a list of line items'],
    [
      'a zero quantity',
      { line_items: [{ id: 1, quantity: 0, price: '1.00' }] },
      'line_items[0].quantity: expected a positive integer',
    ],
    [
      'a fractional quantity',
      { line_items: [{ id: 1, quantity: 1.5, price: '1.00' }] },
      'line_items[0].quantity: expected a positive integer',
    ],
    [
      'a price that is not an amount',
      { line_items: [{ id: 1, quantity: 1, price: 'free' }] },
      'line_items[0].price: expected a decimal amount',
    ],
    [
      'a discount allocation without amount',
      { line_items: [{ id: 1, quantity: 1, price: '1.00', discount_allocations: [{}] }] },
      'line_items[0].discount_allocations[0].amount: expected a decimal amount',
    ],
    ['a customer that is not an object', { customer: 'bob' }, 'customer: expected a customer'],
    ['a date that is no date', { updated_at: 'yesterday' }, 'updated_at: expected a date-time'],
  ];
  it.each(cases)('%s', (_what, over, message) => {
    const err = payloadError(() => parseOrder(minimalOrder(over)));
    expect(err.message).toBe(message);
  });

  it('refuses a body that is not an object', () => {
    expect(payloadError(() => parseOrder('[1,2]')).issues).toEqual([
      { path: '', message: 'expected an order object' },
    ]);
  });
});

describe('parseWebhookPayload', () => {
  it('says when the body is not JSON, or not UTF-8', () => {
    const err = payloadError(() => parseWebhookPayload('orders/create', '{"id": 1,'));
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0]?.path).toBe('');
    expect(err.message).toMatch(/^body is not JSON/);
    expect(
      payloadError(() => parseWebhookPayload('orders/create', new Uint8Array([0xff, 0xfe]))).message,
    ).toBe('body is not UTF-8 text');
  });

  it('refuses an unknown topic', () => {
    expect(payloadError(() => parseWebhookPayload('products/create', '{}')).message).toMatch(
      /^unsupported topic "products\/create"/,
    );
  });

  it('reads the compliance topics and app/uninstalled', () => {
    expect(
      parseWebhookPayload(
        'customers/redact',
        '{"shop_id":954889,"shop_domain":"demo-store.myshopify.com","customer":{"id":7294810023456789012,"email":"a@b.co","phone":"555"},"orders_to_redact":[6114532901234567891,1]}',
      ),
    ).toEqual({
      topic: 'customers/redact',
      payload: {
        shop_id: '954889',
        shop_domain: 'demo-store.myshopify.com',
        customer: { id: '7294810023456789012', email: 'a@b.co', phone: '555' },
        orders_to_redact: ['6114532901234567891', '1'],
      },
    });
    expect(
      parseWebhookPayload('shop/redact', '{"shop_id":1,"shop_domain":"x.myshopify.com"}').payload,
    ).toEqual({
      shop_id: '1',
      shop_domain: 'x.myshopify.com',
    });
    expect(
      parseWebhookPayload(
        'customers/data_request',
        '{"shop_id":1,"shop_domain":"x.myshopify.com","orders_requested":[2],"customer":{"id":3},"data_request":{"id":4}}',
      ).payload,
    ).toEqual({
      shop_id: '1',
      shop_domain: 'x.myshopify.com',
      orders_requested: ['2'],
      customer: { id: '3', email: null, phone: null },
      data_request: { id: '4' },
    });
    expect(
      parseWebhookPayload(
        'app/uninstalled',
        '{"id":1,"myshopify_domain":"x.myshopify.com","plan_name":"basic"}',
      ).payload,
    ).toEqual({ id: '1', name: null, email: null, domain: null, myshopify_domain: 'x.myshopify.com' });
  });

  it('never throws anything but ShopifyPayloadError, whatever the body and topic', () => {
    const topic = fc.oneof(fc.constantFrom(...SHOPIFY_TOPICS), fc.string());
    const lineItem = fc.record(
      {
        id: fc.oneof(fc.bigInt(), fc.integer(), fc.string()),
        quantity: fc.jsonValue(),
        price: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const orderish = fc.record(
      {
        id: fc.jsonValue(),
        line_items: fc.oneof(fc.array(lineItem), fc.jsonValue()),
        customer: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      fc.string(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      orderish.map((v) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x))),
      fc.uint8Array(),
    );
    fc.assert(
      fc.property(topic, body, (t, b) => {
        try {
          parseWebhookPayload(t, b);
        } catch (err) {
          if (!(err instanceof ShopifyPayloadError)) throw err;
          expect(err.issues.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the same order as the schema on the lossless value', () => {
    const body = minimalOrder({ id: '9007199254740993' });
    expect(parseWebhookPayload('orders/paid', body).payload).toEqual(
      shopifyOrderSchema.parse(parseJsonLossless(body)),
    );
  });
});
