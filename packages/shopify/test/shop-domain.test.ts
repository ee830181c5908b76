import { describe, expect, it } from 'vitest';
import { normalizeShopDomain } from '../src/index.ts';

describe('normalizeShopDomain', () => {
  it.each([
    ['mystore', 'mystore.myshopify.com'],
    ['MyStore.myshopify.com', 'mystore.myshopify.com'],
    ['https://mystore.myshopify.com/admin', 'mystore.myshopify.com'],
    ['  http://MY-STORE-2.myshopify.com/  ', 'my-store-2.myshopify.com'],
    ['mystore.myshopify.com.', 'mystore.myshopify.com'],
    ['https://admin.shopify.com/store/mystore/orders?x=1', 'mystore.myshopify.com'],
  ])('%s → %s', (input, domain) => {
    expect(normalizeShopDomain(input)).toEqual({ ok: true, domain });
  });

  it.each([
    ['', /Enter the store's Shopify domain/],
    ['   ', /Enter the store's Shopify domain/],
    ['example.com', /example\.com is not a myshopify\.com domain/],
    ['my store', /no spaces/],
    ['evil.myshopify.com.attacker.io', /evil\.myshopify\.com\.attacker\.io is not a myshopify\.com domain/],
    ['a.b.myshopify.com', /"a\.b" is not a valid store name/],
    ['-store', /not a valid store name/],
    ['mystöre', /no spaces or accents/],
    ['https://user:pw@mystore.myshopify.com', /is not a shop domain/],
    ['https://mystore.myshopify.com:8443', /is not a shop domain/],
    ['ftp://mystore.myshopify.com', /is not a shop domain/],
    ['myshopify.com', /myshopify\.com is not a myshopify\.com domain/],
  ])('refuses %j with a reason', (input, reason) => {
    const result = normalizeShopDomain(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});
