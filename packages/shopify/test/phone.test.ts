import fc from 'fast-check';
import examples from 'libphonenumber-js/examples.mobile.json' with { type: 'json' };
import { getCountryCallingCode, getExampleNumber, parsePhoneNumberFromString } from 'libphonenumber-js/max';
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

describe('the phone country comes from the number, else its address, else the default (issue #21)', () => {
  const COUNTRIES = ['US', 'MX', 'GB', 'CO'] as const;
  const address = (country_code: string, phone: string | null = null) => ({
    address1: 'x',
    city: 'y',
    country_code,
    phone,
  });

  it.each([
    // [where the phone is, the raw phone, the address country, the integration default, E.164]
    ['shipping', '(312) 345-6789', 'US', 'CO', '+13123456789'], // the San Francisco customer of #21
    ['shipping', '+1 312 345 6789', 'CO', 'CO', '+13123456789'],
    ['billing', '55 1234 5678', 'MX', 'CO', '+525512345678'],
    ['billing', '+52 55 1234 5678', 'US', 'US', '+525512345678'],
    ['shipping', '020 7946 0018', 'GB', 'CO', '+442079460018'],
    ['shipping', '+44 20 7946 0018', 'MX', 'MX', '+442079460018'],
    ['customer', '300 123 4567', 'CO', 'US', '+573001234567'],
    ['customer', '+57 300 123 4567', 'GB', 'GB', '+573001234567'],
    ['order', '(312) 345-6789', 'US', 'CO', '+13123456789'],
  ] as const)('%s phone %s with address in %s (default %s) → %s', (where, raw, country, fallback, e164) => {
    const over =
      where === 'shipping'
        ? { shipping_address: address(country, raw) }
        : where === 'billing'
          ? { billing_address: address(country, raw) }
          : where === 'customer'
            ? { customer: { phone: raw, default_address: address(country) } }
            : { phone: raw, shipping_address: address(country) };
    expect(pickOrderPhone(order(over), fallback)).toBe(e164);
  });

  it('uses the default country only when the address has none, and never forces a number into it', () => {
    expect(pickOrderPhone(order({ shipping_address: { phone: '300 123 4567' } }), 'CO')).toBe(
      '+573001234567',
    );
    // "300 123 4567" is not a valid US number: not made Colombian because the integration is.
    expect(pickOrderPhone(order({ shipping_address: address('US', '300 123 4567') }), 'CO')).toBeNull();
    // A UK mobile written nationally in a US address is not a number there.
    expect(pickOrderPhone(order({ billing_address: address('US', '07911 123456') }), 'GB')).toBeNull();
  });

  it('reads each phone in the country of its own address', () => {
    const mapped = order({
      shipping_address: address('MX', 'no phone'),
      billing_address: address('GB', '020 7946 0018'),
    });
    expect(pickOrderPhone(mapped, 'CO')).toBe('+442079460018');
  });

  it('property: a valid national number in its address country is that country, whatever the default', () => {
    const national = fc
      .tuple(fc.constantFrom(...COUNTRIES), fc.constantFrom(...COUNTRIES), fc.integer({ min: 0, max: 9999 }))
      .map(([country, fallback, n]) => {
        const example = getExampleNumber(country, examples);
        const digits = example?.nationalNumber ?? '';
        const variant = digits.slice(0, -4) + String(n).padStart(4, '0');
        return { country, fallback, parsed: parsePhoneNumberFromString(variant, country) };
      })
      .filter(({ parsed }) => parsed?.isValid() === true);
    fc.assert(
      fc.property(national, ({ country, fallback, parsed }) => {
        if (!parsed) return;
        for (const written of [
          parsed.formatNational(),
          parsed.nationalNumber,
          parsed.formatInternational(),
        ]) {
          expect(pickOrderPhone(order({ shipping_address: address(country, written) }), fallback)).toBe(
            parsed.number,
          );
        }
        // Written with its code, it is the same number in any address and with any default.
        const elsewhere = COUNTRIES.find((c) => c !== country) ?? 'US';
        expect(normalizePhone(parsed.formatInternational(), elsewhere)).toBe(parsed.number);
      }),
      { numRuns: 500 },
    );
  });

  it('property: digits without a code are that country’s number or none, never the default’s', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...COUNTRIES),
        fc.constantFrom(...COUNTRIES),
        fc.stringMatching(/^[1-9][0-9 ()-]{5,14}$/),
        (country, fallback, raw) => {
          const picked = pickOrderPhone(order({ shipping_address: address(country, raw) }), fallback);
          if (picked === null) return;
          expect(picked.startsWith(`+${getCountryCallingCode(country)}`)).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });
});
