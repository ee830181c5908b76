import { describe, expect, it } from 'vitest';
import {
  SHOPIFY_SECRET_MIN_LENGTH,
  secretHint,
  shopifySecretProblem,
  shopifySecretSchema,
} from '../src/index.ts';

const LONG = `shpat_${'0123456789abcdef'.repeat(2)}`;

describe('Shopify credentials rule', () => {
  it('accepts a Shopify-shaped token and refuses anything shorter than 32 characters', () => {
    expect(LONG.length).toBe(38);
    expect(shopifySecretProblem(LONG, 'access token')).toBeNull();
    expect(shopifySecretProblem('a'.repeat(SHOPIFY_SECRET_MIN_LENGTH))).toBeNull();
    expect(shopifySecretProblem('a'.repeat(SHOPIFY_SECRET_MIN_LENGTH - 1), 'webhook signing secret')).toBe(
      "The webhook signing secret is too short: Shopify's have at least 32 characters. Copy it again from Shopify.",
    );
    expect(shopifySecretProblem('k3Y9')).toMatch(/too short/);
    expect(shopifySecretProblem('')).toBe('Enter the secret.');
  });

  it('refuses spaces, control characters (NUL) and non-ASCII inside a secret', () => {
    for (const bad of [`${LONG} x`, `${LONG}\u0000`, `${LONG}\u0007`, `${LONG}é`]) {
      expect(shopifySecretProblem(bad)).toMatch(/only letters, digits and punctuation/);
    }
    expect(shopifySecretProblem('x'.repeat(1025))).toMatch(/too long/);
  });

  it('the schema trims before checking and reports the problem as its message', () => {
    const schema = shopifySecretSchema('access token');
    expect(schema.parse(`  ${LONG}\n`)).toBe(LONG);
    const r = schema.safeParse('k3Y9');
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/access token is too short/);
  });

  it('shows the last 4 characters only of a secret long enough for them to reveal little', () => {
    expect(secretHint(LONG)).toBe('cdef');
    expect(secretHint('k3Y9')).toBeNull();
    expect(secretHint('a'.repeat(31))).toBeNull();
  });
});
