/**
 * Money as exact integers of minor units (cents) in bigint — never binary floats. The CRM stores
 * numeric(12,2), so every amount has two decimals.
 */

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/**
 * "59950.00" → 5995000n. null, undefined and "" are zero. Numbers are read through their shortest
 * decimal form (1.005 → "1.005"), so what a person typed is what is rounded. More than two decimals
 * round half away from zero to the cent.
 *
 * @throws RangeError when the value is not a decimal amount ("abc", "1e5", NaN, Infinity).
 */
export function parseMoney(v: string | number | null | undefined): bigint {
  if (v === null || v === undefined) return 0n;
  // String() writes |n| < 1e-6 with an exponent ("1e-7"): those are below half a cent anyway.
  const text = typeof v === 'number' ? (/e-/.test(String(v)) ? v.toFixed(3) : String(v)) : v.trim();
  if (text === '') return 0n;
  const m = DECIMAL.exec(text);
  const [, sign = '', whole = '', fraction = ''] = m ?? [];
  if (!m || (whole === '' && fraction === ''))
    throw new RangeError(`not a decimal amount: ${JSON.stringify(v)}`);
  const cents = BigInt(`${whole || '0'}${fraction.slice(0, 2).padEnd(2, '0')}`);
  const roundUp = (fraction[2] ?? '0') >= '5' ? 1n : 0n;
  return sign === '-' ? -(cents + roundUp) : cents + roundUp;
}

/** 5995000n → "59950.00"; -5n → "-0.05". */
export function formatMoney(cents: bigint): string {
  const abs = cents < 0n ? -cents : cents;
  const digits = abs.toString().padStart(3, '0');
  return `${cents < 0n ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

/** a / b rounded half away from zero (b > 0): the unit price of a line from its exact subtotal. */
export function divideRoundHalfUp(a: bigint, b: bigint): bigint {
  if (b <= 0n) throw new RangeError('divisor must be positive');
  const abs = a < 0n ? -a : a;
  const q = (2n * abs + b) / (2n * b);
  return a < 0n ? -q : q;
}
