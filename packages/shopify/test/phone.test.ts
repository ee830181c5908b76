import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  normalizePhone,
  parseOrder,
  pickOrderPhone,
  type ShopifyOrder,
  secondaryPhoneFromNoteAttributes,
} from '../src/index.ts';

const order = (over: Record<string, unknown>): ShopifyOrder =>
  parseOrder(JSON.stringify({ id: 1, line_items: [], ...over }));

describe('normalizePhone', () => {
  it.each([
    ['300 123 4567', 'CO', '+573001234567'],
    ['(300) 123-4567', 'CO', '+573001234567'],
    ['3001234567', 'CO', '+573001234567'],
    ['300-123-4567', 'co', '+573001234567'],
    ['+57 300 123 4567', 'CO', '+573001234567'],
    ['+57 300 123 4567', 'US', '+573001234567'],
    ['57 300 123 4567', 'CO', '+573001234567'],
    ['601 555 1234', 'CO', '+576015551234'],
    ['(415) 555-2671', 'US', '+14155552671'],
    ['+1 415 555 2671', 'CO', '+14155552671'],
  ])('%s in %s → %s', (raw, country, e164) => {
    expect(normalizePhone(raw, country)).toBe(e164);
  });

  it.each([
    [null, 'CO'],
    [undefined, 'CO'],
    ['', 'CO'],
    ['abc', 'CO'],
    ['300 123 456', 'CO'], // one digit short
    ['555-625-1199', 'US'], // no such area code
    ['3001234567', 'XX'], // local number, unknown country
    ['3001234567', ''],
    ['+', 'CO'],
    ['1'.repeat(300), 'CO'],
  ])('%j in %j → null', (raw, country) => {
    expect(normalizePhone(raw, country)).toBeNull();
  });

  it('never throws; any result is E.164 and normalises to itself', () => {
    const country = fc.constantFrom('CO', 'US', 'MX', 'ES', 'GB', 'XX', '', 'co');
    const raw = fc.oneof(
      fc.string(),
      fc.stringMatching(/^\+?[0-9 ()-]{0,20}$/),
      fc
        .tuple(fc.constantFrom('3', '60', '+57 3', '+1 ', '(415) '), fc.stringMatching(/^[0-9 -]{6,12}$/))
        .map(([a, b]) => a + b),
    );
    fc.assert(
      fc.property(raw, country, (r, c) => {
        const e164 = normalizePhone(r, c);
        if (e164 === null) return;
        expect(e164).toMatch(/^\+[1-9]\d{6,14}$/);
        expect(normalizePhone(e164, c)).toBe(e164);
        expect(normalizePhone(e164, 'US')).toBe(e164);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('pickOrderPhone', () => {
  it('takes the first valid of order, customer, shipping, billing, then default address', () => {
    const all = {
      phone: '3001111111',
      customer: { phone: '3002222222', default_address: { phone: '3005555555' } },
      shipping_address: { phone: '3003333333' },
      billing_address: { phone: '3004444444' },
    };
    expect(pickOrderPhone(order(all), 'CO')).toBe('+573001111111');
    expect(pickOrderPhone(order({ ...all, phone: 'n/a' }), 'CO')).toBe('+573002222222');
    expect(pickOrderPhone(order({ ...all, phone: null, customer: null }), 'CO')).toBe('+573003333333');
    expect(
      pickOrderPhone(
        order({ billing_address: { phone: '3004444444' }, shipping_address: { phone: '12' } }),
        'CO',
      ),
    ).toBe('+573004444444');
    expect(pickOrderPhone(order({ customer: { default_address: { phone: '3005555555' } } }), 'CO')).toBe(
      '+573005555555',
    );
    expect(pickOrderPhone(order({}), 'CO')).toBeNull();
  });
});

describe('secondaryPhoneFromNoteAttributes', () => {
  const attrs = (...list: [string, string][]) =>
    order({ note_attributes: list.map(([name, value]) => ({ name, value })) });

  it('finds a phone under names like teléfono, celular, WhatsApp, móvil (any case or accent)', () => {
    for (const name of [
      'Teléfono WhatsApp',
      'TELEFONO',
      'Celular',
      'whatsapp',
      'Móvil',
      'movil 2',
      'Phone number',
      'Tel.',
    ]) {
      expect(secondaryPhoneFromNoteAttributes(attrs([name, '311 555 0142']), 'CO', null), name).toBe(
        '+573115550142',
      );
    }
  });

  it('ignores other names, invalid numbers and the primary phone itself', () => {
    expect(secondaryPhoneFromNoteAttributes(attrs(['Barrio', '311 555 0142']), 'CO', null)).toBeNull();
    expect(secondaryPhoneFromNoteAttributes(attrs(['Celular', 'no tengo']), 'CO', null)).toBeNull();
    expect(
      secondaryPhoneFromNoteAttributes(attrs(['Celular', '3001234567']), 'CO', '+573001234567'),
    ).toBeNull();
    expect(
      secondaryPhoneFromNoteAttributes(
        attrs(['Celular', '3001234567'], ['WhatsApp', '3115550142']),
        'CO',
        '+573001234567',
      ),
    ).toBe('+573115550142');
  });
});
