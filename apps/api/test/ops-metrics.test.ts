import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_STATS_TTL_MS } from '../src/metrics.ts';
import { startTestApp, type TestApp } from '../src/testing/index.ts';
import { createShop, deliver, orderPayload, type Shop } from './webhook-support.ts';

const TOKEN = 'metrics-token-0123456789abcdef';

let db: TestDatabase;
let app: TestApp;
let shop: Shop;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db, { metrics: { enabled: false, token: TOKEN, workerPort: 0 } });
  shop = await createShop(db);
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

type Samples = Map<string, number>;

/** `name{a="x",b="y"}` → value, labels sorted as prom-client writes them. */
function parse(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^(\S+?(?:\{.*\})?) (\S+)$/);
    if (m?.[1] && m[2]) samples.set(m[1], Number(m[2]));
  }
  return samples;
}

async function scrape(): Promise<Samples> {
  const response = await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return parse(await response.text());
}

const get = (s: Samples, key: string) => s.get(key) ?? 0;
const delta = (before: Samples, after: Samples, key: string) => get(after, key) - get(before, key);

describe('GET /metrics', () => {
  it('refuses without the token, or with another, when METRICS_TOKEN is set', async () => {
    expect((await fetch(`${app.url}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${app.url}/metrics`, { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain('crm_');
    const basic = await fetch(`${app.url}/metrics`, { headers: { authorization: `Basic ${TOKEN}` } });
    expect(basic.status).toBe(401);
  });

  it('is not served at all unless enabled or given a token', async () => {
    const off = await startTestApp(db);
    try {
      expect((await fetch(`${off.url}/metrics`)).status).toBe(404);
    } finally {
      await off.close();
    }
  });

  it('counts signed deliveries (accepted, duplicate, forged) and their processing by exactly those amounts', async () => {
    const before = await scrape();
    const orders = [orderPayload(), orderPayload(), orderPayload()];
    const ids = orders.map(() => randomUUID());
    for (const [i, order] of orders.entries()) {
      const r = await deliver(app.url, {
        body: order.text,
        shopDomain: shop.shopDomain,
        secret: shop.secret,
        webhookId: ids[i],
      });
      expect(r.status).toBe(200);
    }
    const dup = await deliver(app.url, {
      body: orders[0]?.text ?? '',
      shopDomain: shop.shopDomain,
      secret: shop.secret,
      webhookId: ids[0],
    });
    expect(dup.body).toMatchObject({ status: 'duplicate' });
    const forged = await deliver(app.url, {
      body: orderPayload().text,
      shopDomain: shop.shopDomain,
      secret: 'not-the-shops-secret',
    });
    expect(forged.status).toBe(401);

    // The queue as the workers will find it (its figures are sampled at most every few seconds).
    await new Promise((r) => setTimeout(r, QUEUE_STATS_TTL_MS + 100));
    const queued = await scrape();
    expect(get(queued, 'crm_queue_jobs{state="pending"}')).toBe(3);
    expect(get(queued, 'crm_queue_oldest_pending_seconds')).toBeGreaterThan(QUEUE_STATS_TTL_MS / 1000 - 1);
    expect(get(queued, 'crm_database_up')).toBe(1);
    const connections = [...queued].filter(([k]) => k.startsWith('crm_db_connections{'));
    expect(connections.some(([k, v]) => k.includes('pool="test-ingest"') && v > 0)).toBe(true);

    await app.runJobs();
    const after = await scrape();
    const deliveries = (outcome: string, status: number) =>
      delta(
        before,
        after,
        `crm_webhook_deliveries_total{topic="orders/create",outcome="${outcome}",status="${status}"}`,
      );
    expect(deliveries('accepted', 200)).toBe(3);
    expect(deliveries('duplicate', 200)).toBe(1);
    expect(deliveries('bad_hmac', 401)).toBe(1);
    expect(delta(before, after, 'crm_webhook_ack_seconds_count{outcome="accepted"}')).toBe(3);
    expect(delta(before, after, 'crm_webhook_ack_seconds_count{outcome="duplicate"}')).toBe(1);
    expect(delta(before, after, 'crm_webhook_ack_seconds_count{outcome="bad_hmac"}')).toBe(1);
    expect(delta(before, after, 'crm_webhook_ack_seconds_bucket{le="+Inf",outcome="accepted"}')).toBe(3);
    expect(delta(before, after, 'crm_webhook_ack_seconds_sum{outcome="accepted"}')).toBeGreaterThan(0);

    expect(delta(before, after, 'crm_webhook_events_total{topic="orders/create",outcome="processed"}')).toBe(
      3,
    );
    expect(delta(before, after, 'crm_webhook_events_total{topic="orders/create",outcome="failed"}')).toBe(0);
    expect(delta(before, after, 'crm_webhook_events_total{topic="orders/create",outcome="retried"}')).toBe(0);
    const processing = 'crm_webhook_processing_seconds';
    expect(delta(before, after, `${processing}_count{topic="orders/create",outcome="processed"}`)).toBe(3);
    // Ack → order: the jobs ran after the wait above, so each took at least that long.
    expect(
      delta(before, after, `${processing}_sum{topic="orders/create",outcome="processed"}`),
    ).toBeGreaterThan(3 * (QUEUE_STATS_TTL_MS / 1000));
    expect(
      delta(before, after, `${processing}_bucket{le="5",topic="orders/create",outcome="processed"}`),
    ).toBe(0);

    // No workspace id or shop domain ever becomes a label value.
    const text = await (
      await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    expect(text).not.toContain(shop.workspaceId);
    expect(text).not.toContain(shop.shopDomain);
  });

  it('counts a forged topic as other, not as a label of its own', async () => {
    const before = await scrape();
    const r = await deliver(app.url, {
      body: '{}',
      topic: `made/up-${randomUUID()}`,
      shopDomain: shop.shopDomain,
      secret: 'wrong',
    });
    expect(r.status).toBe(401);
    const after = await scrape();
    expect(
      delta(before, after, 'crm_webhook_deliveries_total{topic="other",outcome="bad_hmac",status="401"}'),
    ).toBe(1);
  });
});
