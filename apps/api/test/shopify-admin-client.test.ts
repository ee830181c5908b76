/**
 * The Admin API client against the local fake Shopify over real HTTP: the connection test and its
 * four failure reasons, webhook registration and the subscription health check.
 */
import { freePort } from '@crm/db/testing';
import { type FakeShopify, startFakeShopify } from '@crm/fake-shopify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AppConfig, loadConfig } from '../src/config.ts';
import {
  deleteWebhook,
  ensureWebhookSubscriptions,
  listWebhooks,
  registerWebhooks,
  testConnection,
  WEBHOOK_TOPICS,
} from '../src/shopify-admin/client.ts';

const SHOP = 'acme-store.myshopify.com';
const TOKEN = 'shpat_acme_0123456789abcdef';
const LIMITED_SHOP = 'limited.myshopify.com';
const LIMITED_TOKEN = 'shpat_limited_token_9876';
const ADDRESS = 'https://crm.example.test/webhooks/shopify';

let fake: FakeShopify;
let config: AppConfig;
const creds = { shopDomain: SHOP, accessToken: TOKEN };

beforeAll(async () => {
  fake = await startFakeShopify({
    shops: [
      { domain: SHOP, name: 'Acme Cosmetics', tokens: [TOKEN] },
      {
        domain: LIMITED_SHOP,
        name: 'Limited',
        tokens: [LIMITED_TOKEN],
        scopes: ['read_products', 'write_orders'],
      },
    ],
  });
  config = { ...loadConfig({}), shopifyAdminBaseUrl: fake.baseUrl, webDist: null };
});
afterAll(async () => {
  await fake.close();
});

describe('testConnection', () => {
  it('reports the shop name and scopes for a good token', async () => {
    const result = await testConnection(config, creds);
    expect(result).toEqual({
      ok: true,
      shopName: 'Acme Cosmetics',
      scopes: expect.arrayContaining(['read_orders']),
      protectedCustomerData: true,
      warnings: [],
    });
    // It really went over HTTP, to the GraphQL Admin API of the configured version (2026-10) only.
    expect(config.shopifyApiVersion).toBe('2026-10');
    const paths = new Set(fake.requests.map((r) => r.path));
    expect([...paths]).toEqual([`/${SHOP}/admin/api/2026-10/graphql.json`]);
  });

  it('bad token: 401', async () => {
    const result = await testConnection(config, { shopDomain: SHOP, accessToken: 'shpat_wrong_token_1234' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.reason).toBe('bad_token');
    expect(result.message).toMatch(/access token/i);
    expect(result.message).not.toContain('shpat_wrong_token_1234');
  });

  it('unknown shop: 404', async () => {
    const result = await testConnection(config, {
      shopDomain: 'no-such-store.myshopify.com',
      accessToken: TOKEN,
    });
    expect(result).toMatchObject({ ok: false, reason: 'unknown_shop' });
    if (!result.ok) expect(result.message).toContain('no-such-store.myshopify.com');
  });

  it('missing scope: names what is missing; write_orders counts as read_orders', async () => {
    const result = await testConnection(config, { shopDomain: LIMITED_SHOP, accessToken: LIMITED_TOKEN });
    expect(result).toMatchObject({ ok: false, reason: 'missing_scope' });
    if (result.ok) return;
    expect(result.message).toContain('read_customers');
    expect(result.message).not.toContain('read_orders');
    expect(result.message).not.toContain(LIMITED_TOKEN);
  });

  it('unreachable: connection refused', async () => {
    const closedPort = await freePort();
    const result = await testConnection(
      { ...config, shopifyAdminBaseUrl: `http://127.0.0.1:${closedPort}/{shop}` },
      creds,
    );
    expect(result).toMatchObject({ ok: false, reason: 'unreachable' });
    if (!result.ok) expect(result.message).toMatch(/refused/);
  });

  it('unreachable: no answer within the time limit', async () => {
    fake.setLatency(2_000);
    try {
      const started = Date.now();
      const result = await testConnection(config, creds, { timeoutMs: 200 });
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(result).toMatchObject({ ok: false, reason: 'unreachable' });
      if (!result.ok) expect(result.message).toMatch(/did not answer/);
    } finally {
      fake.setLatency(0);
    }
  });

  it('unreachable: Shopify keeps answering 5xx (one 5xx is retried)', async () => {
    fake.failNext(1, 503);
    expect(await testConnection(config, creds)).toMatchObject({ ok: true });
    fake.failNext(3, 503);
    const result = await testConnection(config, creds);
    expect(result).toMatchObject({ ok: false, reason: 'unreachable' });
  });

  it('refuses a shop domain that is not a host name without calling anything', async () => {
    const before = fake.requests.length;
    const result = await testConnection(config, { shopDomain: 'evil.com/../x', accessToken: TOKEN });
    expect(result).toMatchObject({ ok: false, reason: 'unknown_shop' });
    expect(fake.requests.length).toBe(before);
  });

  it('protected customer data withheld: still connects, and says so', async () => {
    fake.shop(SHOP).protectedCustomerData = 'withheld';
    try {
      const result = await testConnection(config, creds);
      expect(result).toMatchObject({ ok: true, protectedCustomerData: false });
    } finally {
      fake.shop(SHOP).protectedCustomerData = 'granted';
    }
  });

  it('warns when Shopify falls forward to another API version or flags deprecated use', async () => {
    fake.setVersionAnswer({ version: '2027-01' });
    try {
      const result = await testConnection(config, creds);
      expect(result.ok && result.warnings).toEqual([expect.stringMatching(/2027-01 instead of 2026-10/)]);
      fake.setVersionAnswer({ version: null, deprecatedReason: 'Shop.products' });
      const deprecated = await testConnection(config, creds);
      expect(deprecated.ok && deprecated.warnings).toEqual([
        expect.stringMatching(/deprecated.*Shop\.products/),
      ]);
    } finally {
      fake.setVersionAnswer({ version: null, deprecatedReason: null });
    }
  });

  it('REST paths answer 404 at the fake, and the client never asked one', async () => {
    const rest = await fetch(`${fake.url}/${SHOP}/admin/api/2026-10/shop.json`, {
      headers: { 'X-Shopify-Access-Token': TOKEN },
    });
    expect(rest.status).toBe(404);
    expect(fake.stats.rest).toBe(1);
    expect(fake.restPaths).toEqual([`GET ${SHOP}/admin/api/2026-10/shop.json`]);
    // Made on purpose: forgotten, so close() (which fails on any REST request) checks the client's.
    fake.restPaths.splice(0);
  });
});

describe('webhook subscriptions', () => {
  beforeEach(() => {
    fake.shop(SHOP).webhooks.clear();
  });

  it('registers every topic once, idempotently, keeping ids above 2^53 exact', async () => {
    const first = await registerWebhooks(config, creds, ADDRESS);
    expect(first.map((w) => w.topic)).toEqual([...WEBHOOK_TOPICS]);
    expect(first.every((w) => w.address === ADDRESS)).toBe(true);
    // The fake's ids are above 2^53 and go out as raw JSON numbers: still exact.
    const stored = [...fake.shop(SHOP).webhooks.keys()].sort();
    expect(first.map((w) => w.id).sort()).toEqual(stored);
    expect(BigInt(stored[0] ?? '0')).toBeGreaterThan(BigInt(Number.MAX_SAFE_INTEGER));

    const second = await registerWebhooks(config, creds, ADDRESS);
    expect(second.map((w) => w.id)).toEqual(first.map((w) => w.id));
    expect(fake.shop(SHOP).webhooks.size).toBe(WEBHOOK_TOPICS.length);
    // No compliance topic is registered through the API (they live in the app's configuration).
    expect([...fake.shop(SHOP).webhooks.values()].some((w) => w.topic.startsWith('customers/'))).toBe(false);
  });

  it('leaves subscriptions at another address alone', async () => {
    await registerWebhooks(config, creds, 'https://old.example.test/webhooks/shopify');
    await registerWebhooks(config, creds, ADDRESS);
    const all = await listWebhooks(config, creds);
    expect(all).toHaveLength(WEBHOOK_TOPICS.length * 2);
  });

  it('health check: all present → nothing re-created', async () => {
    await registerWebhooks(config, creds, ADDRESS);
    const health = await ensureWebhookSubscriptions(config, creds, ADDRESS);
    expect(health).toEqual(WEBHOOK_TOPICS.map((topic) => ({ topic, present: true, recreated: false })));
  });

  it('health check finds a subscription Shopify deleted and re-creates it', async () => {
    await registerWebhooks(config, creds, ADDRESS);
    expect(fake.shop(SHOP).dropWebhook('orders/paid')).toBe(true);
    const health = await ensureWebhookSubscriptions(config, creds, ADDRESS);
    expect(health.find((h) => h.topic === 'orders/paid')).toEqual({
      topic: 'orders/paid',
      present: false,
      recreated: true,
    });
    expect(health.filter((h) => h.recreated)).toHaveLength(1);
    const after = await listWebhooks(config, creds);
    expect(after.filter((w) => w.topic === 'orders/paid' && w.address === ADDRESS)).toHaveLength(1);
  });

  it('health check after a DELETE through the API re-creates that topic', async () => {
    const subs = await registerWebhooks(config, creds, ADDRESS);
    const created = subs.find((w) => w.topic === 'orders/create');
    if (!created) throw new Error('orders/create not registered');
    await deleteWebhook(config, creds, created.id);
    expect((await listWebhooks(config, creds)).some((w) => w.topic === 'orders/create')).toBe(false);
    const health = await ensureWebhookSubscriptions(config, creds, ADDRESS);
    expect(health.filter((h) => h.recreated).map((h) => h.topic)).toEqual(['orders/create']);
    expect(fake.shop(SHOP).webhooks.size).toBe(WEBHOOK_TOPICS.length);
  });

  it('a bad token fails registration with a clear error that does not contain it', async () => {
    const bad = { shopDomain: SHOP, accessToken: 'shpat_revoked_token_5555' };
    const error = await registerWebhooks(config, bad, ADDRESS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/rejected the access token/);
    expect((error as Error).message).not.toContain('shpat_revoked_token_5555');
  });
});
