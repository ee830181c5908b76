import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { matchShopifyHmac, signShopifyWebhook } from '../src/index.ts';
import { fixtureBytes } from './helpers.ts';

const body = fixtureBytes('orders-create.cod-co.json');
const secret = 'demo-webhook-secret';
const header = signShopifyWebhook(body, secret);

describe('signShopifyWebhook', () => {
  it('is base64 of HMAC-SHA256 over the raw bytes, as Shopify computes it', () => {
    expect(header).toBe(createHmac('sha256', secret).update(body).digest('base64'));
    expect(header).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(signShopifyWebhook('{"a":1}', 's')).toBe(
      signShopifyWebhook(new TextEncoder().encode('{"a":1}'), 's'),
    );
  });
});

describe('matchShopifyHmac', () => {
  it('accepts the right secret', () => {
    expect(matchShopifyHmac(body, header, [secret])).toBe(0);
    expect(matchShopifyHmac(body, ` ${header} `, [secret])).toBe(0);
  });

  it('rejects a body changed by one byte', () => {
    const changed = Uint8Array.from(body);
    changed[100] = (changed[100] ?? 0) ^ 1;
    expect(matchShopifyHmac(changed, header, [secret])).toBe(-1);
  });

  it('rejects a wrong secret, and no secrets at all', () => {
    expect(matchShopifyHmac(body, header, ['another-secret'])).toBe(-1);
    expect(matchShopifyHmac(body, header, [])).toBe(-1);
  });

  it('rejects a missing, empty, truncated, padded-out or non-base64 header', () => {
    for (const bad of [
      undefined,
      null,
      '',
      header.slice(0, -4),
      `${header}AAAA`,
      header.replace(/[A-Za-z0-9]/, '*'),
      header.replace('=', ''),
      Buffer.from(header, 'base64').toString('hex'),
      Buffer.from(header, 'base64').toString('base64url'),
    ]) {
      expect(matchShopifyHmac(body, bad, [secret]), String(bad)).toBe(-1);
    }
  });

  it('accepts when the second of two secrets matches (rotation)', () => {
    expect(matchShopifyHmac(body, header, ['new-secret', secret])).toBe(1);
    expect(matchShopifyHmac(body, signShopifyWebhook(body, 'new-secret'), ['new-secret', secret])).toBe(0);
  });

  it('never accepts an empty secret, even with a header signed by one', () => {
    expect(matchShopifyHmac(body, signShopifyWebhook(body, ''), [''])).toBe(-1);
  });

  const small = Buffer.from('{"id":820982911946154508}', 'utf8');
  it('tells which secret signed the body: the current one (0) or the previous (1), else -1', () => {
    expect(matchShopifyHmac(small, signShopifyWebhook(small, 'current'), ['current', 'previous'])).toBe(0);
    expect(matchShopifyHmac(small, signShopifyWebhook(small, 'previous'), ['current', 'previous'])).toBe(1);
    expect(matchShopifyHmac(small, signShopifyWebhook(small, 'other'), ['current', 'previous'])).toBe(-1);
    expect(matchShopifyHmac(small, signShopifyWebhook(small, ''), ['', 'previous'])).toBe(-1);
    expect(matchShopifyHmac(small, 'not base64!', ['current'])).toBe(-1);
    expect(matchShopifyHmac(small, null, ['current'])).toBe(-1);
  });
});
