import { describe, expect, it } from 'vitest';
import { signOAuthQuery, verifyOAuthQuery } from '../src/index.ts';

// Shopify's documented example: code, shop, state, timestamp signed with the secret "hush".
const SECRET = 'hush';
const base: [string, string][] = [
  ['code', '0907a61c0c8d55e99db179b68161bc00'],
  ['shop', 'some-shop.myshopify.com'],
  ['state', '0.6784241404160823'],
  ['timestamp', '1337178173'],
];

function signed(params: [string, string][], secret = SECRET): URLSearchParams {
  const q = new URLSearchParams(params);
  q.set('hmac', signOAuthQuery(params, secret));
  return q;
}

describe('OAuth query hmac', () => {
  it('matches the value of Shopify’s documented example', () => {
    expect(signOAuthQuery(base, SECRET)).toBe(
      '700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf',
    );
  });

  it('does not depend on the order of the parameters', () => {
    const q = signed(base);
    const reordered = new URLSearchParams([...q.entries()].reverse());
    expect(verifyOAuthQuery(reordered, SECRET)).toBe(true);
  });

  it('refuses a changed parameter, another secret, a repeated parameter, a missing or malformed hmac', () => {
    const q = signed(base);
    const changed = new URLSearchParams(q);
    changed.set('shop', 'evil.myshopify.com');
    expect(verifyOAuthQuery(changed, SECRET)).toBe(false);
    expect(verifyOAuthQuery(q, 'another-secret')).toBe(false);
    expect(verifyOAuthQuery(q, '')).toBe(false);
    const repeated = new URLSearchParams(q);
    repeated.append('state', 'x');
    expect(verifyOAuthQuery(repeated, SECRET)).toBe(false);
    const missing = new URLSearchParams(q);
    missing.delete('hmac');
    expect(verifyOAuthQuery(missing, SECRET)).toBe(false);
    const malformed = new URLSearchParams(q);
    malformed.set('hmac', 'zz');
    expect(verifyOAuthQuery(malformed, SECRET)).toBe(false);
  });
});
