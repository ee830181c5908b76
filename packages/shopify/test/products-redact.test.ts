import { describe, expect, it } from 'vitest';
import {
  type CatalogProduct,
  matchLineToProduct,
  parseJsonLossless,
  parseOrder,
  parseWebhookPayload,
  REDACTED,
  redactOrderPayload,
  redactPayloadText,
  type ShopifyLineItem,
  ShopifyPayloadError,
} from '../src/index.ts';
import { fixtureBytes } from './helpers.ts';

const line = (over: Record<string, unknown>): ShopifyLineItem => {
  const order = parseOrder(
    JSON.stringify({ id: 1, line_items: [{ id: 7, quantity: 1, price: '59950.00', ...over }] }),
  );
  const [first] = order.line_items;
  if (!first) throw new Error('no line');
  return first;
};

const catalogue: CatalogProduct[] = [
  { id: 'p1', sku: 'SRM-VITC-30', title: 'Sérum Vitamina C 30ml', price: '59950.00' },
  { id: 'p2', sku: '', title: 'Crema hidratante', price: '45000.00' },
  { id: 'p3', sku: null, title: 'Cosmetiquera de regalo', price: '59950.01' },
];

describe('matchLineToProduct', () => {
  it('sku: exact and case-insensitive; an empty sku never matches', () => {
    expect(matchLineToProduct(line({ sku: ' srm-vitc-30 ' }), catalogue, 'sku')?.id).toBe('p1');
    expect(matchLineToProduct(line({ sku: 'SRM-VITC' }), catalogue, 'sku')).toBeNull();
    expect(matchLineToProduct(line({ sku: '' }), catalogue, 'sku')).toBeNull();
    expect(matchLineToProduct(line({ sku: null }), catalogue, 'sku')).toBeNull();
  });

  it('name: the most similar title above the threshold, accents and case aside', () => {
    expect(
      matchLineToProduct(
        line({ title: 'Serum vitamina C', name: 'Serum vitamina C - 30ml' }),
        catalogue,
        'name',
      )?.id,
    ).toBe('p1');
    expect(matchLineToProduct(line({ title: 'COSMETIQUERA DE REGALO' }), catalogue, 'name')?.id).toBe('p3');
    expect(
      matchLineToProduct(line({ title: 'Crema solar', name: 'Crema solar' }), catalogue, 'name'),
    ).toBeNull();
    expect(matchLineToProduct(line({ title: null, name: null }), catalogue, 'name')).toBeNull();
  });

  it('name: a product-level title matches any of its variants', () => {
    const products = [{ id: 'nano', sku: null, title: 'IPod Nano - 8gb', price: '199.00' }];
    expect(
      matchLineToProduct(
        line({ title: 'IPod Nano - 8gb', name: 'IPod Nano - 8gb - black' }),
        products,
        'name',
      )?.id,
    ).toBe('nano');
  });

  it('value: price within 0.01, the closest first', () => {
    expect(matchLineToProduct(line({ price: '59950.00' }), catalogue, 'value')?.id).toBe('p1');
    expect(matchLineToProduct(line({ price: '59950.01' }), catalogue, 'value')?.id).toBe('p3');
    expect(matchLineToProduct(line({ price: '44999.99' }), catalogue, 'value')?.id).toBe('p2');
    expect(matchLineToProduct(line({ price: '44999.98' }), catalogue, 'value')).toBeNull();
  });
});

describe('redactOrderPayload', () => {
  const original = parseJsonLossless(new TextDecoder().decode(fixtureBytes('orders-create.cod-co.json')));
  const redacted = redactOrderPayload(original) as Record<string, unknown>;
  const text = JSON.stringify(redacted);

  it('removes names, emails, phones, addresses, the note and note attribute values', () => {
    for (const personal of [
      'María',
      'López',
      'maria.lopez@example.com',
      '300',
      '311 555 0142',
      'Calle 63',
      'Apto 502',
      'Chapinero',
      'portería',
      '110231',
      '4.6486',
    ]) {
      expect(text, personal).not.toContain(personal);
    }
    expect(redacted.email).toBe(REDACTED);
    expect(redacted.phone).toBeNull(); // null stays null
    expect(redacted.note_attributes).toEqual([
      { name: 'Teléfono WhatsApp', value: REDACTED },
      { name: 'Barrio', value: REDACTED },
    ]);
    expect(redacted.shipping_address).toMatchObject({ city: REDACTED, country_code: 'CO', latitude: null });
  });

  it('keeps ids, amounts and products, and does not touch the input', () => {
    expect(redacted.id).toBe('6114532901234567891');
    expect(redacted.customer).toMatchObject({ id: '7294810023456789012', first_name: REDACTED });
    expect(redacted.total_price).toBe('161900.00');
    expect(text).toContain('Sérum Vitamina C - 30 ml');
    expect((original as { email: string }).email).toBe('maria.lopez@example.com');
  });

  it('redacts a stored raw body and keeps every digit of what stays', () => {
    const out = redactPayloadText(new TextDecoder().decode(fixtureBytes('orders-create.cod-co.json')));
    expect(out).toContain('"id":6114532901234567891');
    expect(out).not.toContain('maria.lopez');
    expect(out).toContain(`"email":"${REDACTED}"`);
    // Read back, "[redacted]" is absent: an event processed after its redaction makes no contact of it.
    const order = parseWebhookPayload('orders/create', out).payload;
    expect(order).toMatchObject({ id: '6114532901234567891', email: null, note: null });
    if (!('line_items' in order)) throw new Error('not an order');
    expect(order.customer).toMatchObject({ first_name: null, last_name: null, email: null, phone: null });
    expect(order.shipping_address).toMatchObject({ address1: null, city: null, country_code: 'CO' });
    expect(redactPayloadText('not json, but maybe maria@example.com')).toBe(JSON.stringify(REDACTED));
  });
});

describe('hostile bodies', () => {
  it('deep nesting is "not JSON", not a crash', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expect(() => parseWebhookPayload('orders/create', deep)).toThrow(ShopifyPayloadError);
  });
});
