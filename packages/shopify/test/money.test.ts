import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { divideRoundHalfUp, formatMoney, mapOrder, parseMoney, parseOrder } from '../src/index.ts';

describe('parseMoney / formatMoney', () => {
  it.each([
    ['59950.00', 5995000n],
    ['59950', 5995000n],
    ['0.1', 10n],
    ['.5', 50n],
    ['7.', 700n],
    ['-4094.00', -409400n],
    [' 12.34 ', 1234n],
    ['1.005', 101n], // more than two decimals: half up to the cent
    ['1.004', 100n],
    ['-1.005', -101n],
    ['12345678901234567890.99', 1234567890123456789099n],
    ['', 0n],
    [null, 0n],
    [undefined, 0n],
  ] as const)('parseMoney(%j) = %s', (input, cents) => {
    expect(parseMoney(input)).toBe(cents);
  });

  it('reads numbers by their shortest decimal form, never their binary expansion', () => {
    expect(parseMoney(59950)).toBe(5995000n);
    expect(parseMoney(0.1 + 0.2)).toBe(30n); // 0.30000000000000004
    expect(parseMoney(1.005)).toBe(101n); // 1.00499999999999989... in binary
    expect(parseMoney(1e-7)).toBe(0n);
  });

  it.each(['abc', '1e5', '1,50', '--1', '.', '+', 'NaN'])('refuses %j', (input) => {
    expect(() => parseMoney(input)).toThrow(RangeError);
  });
  it('refuses non-finite numbers', () => {
    expect(() => parseMoney(Number.NaN)).toThrow(RangeError);
    expect(() => parseMoney(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it.each([
    [5995000n, '59950.00'],
    [5n, '0.05'],
    [0n, '0.00'],
    [-5n, '-0.05'],
    [-409400n, '-4094.00'],
  ])('formatMoney(%s) = %s', (cents, text) => {
    expect(formatMoney(cents)).toBe(text);
  });

  it('divides half away from zero', () => {
    expect(divideRoundHalfUp(10899400n, 2n)).toBe(5449700n);
    expect(divideRoundHalfUp(100n, 3n)).toBe(33n);
    expect(divideRoundHalfUp(200n, 3n)).toBe(67n);
    expect(divideRoundHalfUp(5n, 2n)).toBe(3n);
    expect(divideRoundHalfUp(-5n, 2n)).toBe(-3n);
    expect(() => divideRoundHalfUp(1n, 0n)).toThrow(RangeError);
  });
});

describe('line amounts', () => {
  const mapLines = (lines: Record<string, unknown>[]) =>
    mapOrder(parseOrder(JSON.stringify({ id: 1, line_items: lines })), {
      products: [],
      strategy: 'sku',
      defaultCountry: 'CO',
    });

  it('takes discount allocations, else total_discount, and rounds the unit price from the subtotal', () => {
    const mapped = mapLines([
      {
        id: 1,
        quantity: 3,
        price: '10.00',
        total_discount: '5.00',
        discount_allocations: [{ amount: '1.00' }],
      },
      { id: 2, quantity: 3, price: '10.00', total_discount: '1.00' },
      { id: 3, quantity: 3, price: '10.00', discount_allocations: [] },
    ]);
    expect(mapped.lines.map((l) => [l.subtotal, l.unitPrice])).toEqual([
      ['29.00', '9.67'], // 29.00 / 3 = 9.666…: the subtotal is authoritative, the unit price rounded
      ['29.00', '9.67'],
      ['30.00', '10.00'],
    ]);
    expect(mapped.totalValue).toBe('88.00');
  });

  it('never lets a discount push a line below zero (the database refuses negative subtotals)', () => {
    const mapped = mapLines([{ id: 1, quantity: 1, price: '10.00', total_discount: '12.00' }]);
    expect(mapped.lines[0]).toMatchObject({ subtotal: '0.00', unitPrice: '0.00' });
  });

  it('total = Σ line subtotals = Σ price × quantity − Σ discounts, exactly, for any lines', () => {
    const line = fc
      .record({
        price: fc.bigInt({ min: 0n, max: 10n ** 10n }),
        quantity: fc.integer({ min: 1, max: 10_000 }),
        discountShare: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
        asTotalDiscount: fc.boolean(),
        priceAsNumber: fc.boolean(),
      })
      .map(({ price, quantity, discountShare, asTotalDiscount, priceAsNumber }) => {
        // Allocations adding up to at most the line amount.
        let left = price * BigInt(quantity);
        const allocations = discountShare.map((share) => {
          const amount = BigInt(Math.floor(Number(left) * share * 0.5));
          left -= amount;
          return amount;
        });
        return { price, quantity, allocations, asTotalDiscount, priceAsNumber };
      });
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 8 }), (lines) => {
        const body = lines.map((l, i) => ({
          id: i + 1,
          quantity: l.quantity,
          price: l.priceAsNumber && l.price < 2n ** 50n ? Number(formatMoney(l.price)) : formatMoney(l.price),
          ...(l.asTotalDiscount
            ? { total_discount: formatMoney(l.allocations.reduce((a, b) => a + b, 0n)) }
            : { discount_allocations: l.allocations.map((a) => ({ amount: formatMoney(a) })) }),
        }));
        const mapped = mapLines(body);
        const gross = lines.reduce((sum, l) => sum + l.price * BigInt(l.quantity), 0n);
        const discounts = lines.reduce((sum, l) => sum + l.allocations.reduce((a, b) => a + b, 0n), 0n);
        const sumOfLines = mapped.lines.reduce((sum, l) => sum + parseMoney(l.subtotal), 0n);
        expect(mapped.totalValue).toBe(formatMoney(gross - discounts));
        expect(parseMoney(mapped.totalValue)).toBe(sumOfLines);
        for (const [i, l] of mapped.lines.entries()) {
          const subtotal = parseMoney(l.subtotal);
          expect(subtotal).toBeGreaterThanOrEqual(0n);
          // unit price within half a cent of subtotal / quantity
          const diff = parseMoney(l.unitPrice) * 2n * BigInt(l.quantity) - 2n * subtotal;
          expect(diff <= BigInt(l.quantity) && diff >= -BigInt(l.quantity), `line ${i}`).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
