import { describe, expect, it } from 'vitest';
import {
  formatDate,
  formatDateTime,
  formatMoney,
  localDateInput,
  localMidnightIso,
  subtractMoney,
} from './format.ts';

describe('formatMoney', () => {
  it('says the currency when it is known', () => {
    expect(formatMoney('161900.00', 'COP')).toBe('161,900.00 COP');
    expect(formatMoney('45.85', null)).toBe('45.85');
  });

  it('subtracts decimal strings exactly (what a refund took)', () => {
    expect(subtractMoney('115.00', '47.50')).toBe('67.50');
    expect(subtractMoney('9007199254740993.01', '0.02')).toBe('9007199254740992.99');
    expect(subtractMoney('0.00', '0.05')).toBe('-0.05');
  });

  it('groups thousands of the exact decimal string', () => {
    expect(formatMoney('161900.00')).toBe('161,900.00');
    expect(formatMoney('1234567.5')).toBe('1,234,567.50');
    expect(formatMoney('999.99')).toBe('999.99');
    expect(formatMoney('0')).toBe('0.00');
  });

  it('never goes through a float', () => {
    // 2^53 + 1 is not a double; the string must survive as written.
    expect(formatMoney('9007199254740993.01')).toBe('9,007,199,254,740,993.01');
    expect(formatMoney('0.10')).toBe('0.10');
  });

  it('keeps the sign of a negative amount (a refund)', () => {
    expect(formatMoney('-1500.25')).toBe('-1,500.25');
    expect(formatMoney('-5')).toBe('-5.00');
  });

  it('shows two decimals, cutting longer ones', () => {
    expect(formatMoney('10.999')).toBe('10.99');
    expect(formatMoney('10.')).toBe('10.00');
  });
});

describe('dates', () => {
  it('shows a dash for a missing instant', () => {
    expect(formatDateTime(null)).toBe('—');
    expect(formatDate(null)).toBe('—');
    expect(formatDate('2026-12-04T10:00:00.000Z')).not.toBe('—');
  });

  it('reads and writes local days', () => {
    expect(localDateInput(new Date(2026, 0, 5, 23, 59))).toBe('2026-01-05');
    expect(localMidnightIso('2026-12-04')).toBe(new Date(2026, 11, 4).toISOString());
    // "to" filters end at the next local midnight, across a month end too
    expect(localMidnightIso('2026-12-31', 1)).toBe(new Date(2027, 0, 1).toISOString());
  });
});
