/**
 * The webhook route's store (apps/api/src/webhooks/store.ts, migration 0016): shop → integration
 * remembered between deliveries yet never trusted for a decision the database does not check again;
 * app.store_webhook_events' outcomes; the events it stores, each queued (pending, due now) with no
 * job beside it; and the NOTIFY that wakes the workers, sent after the commit, not inside it.
 */
import { encryptSecret, transaction } from '@crm/db';
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { storeWebhookEvents, type VerifiedWebhookEvent, webhookEventKey } from '@crm/db/worker';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../src/testing/index.ts';
import { createWaker, createWebhookStore } from '../src/webhooks/store.ts';
import { count, createShop, deliver, orderPayload, type Shop, waitFor } from './webhook-support.ts';

let db: TestDatabase;
let app: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db);
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

const stored = (shop: Shop) => count(db.sql, 'webhook_events', 'integration_id = $1', [shop.integrationId]);

/** Delivers a new order to the shop signed with `secret`; returns status, body and whether it was stored. */
async function send(shop: Shop, secret: string, topic = 'orders/create') {
  const before = await stored(shop);
  const res = await deliver(app.url, {
    body: orderPayload().text,
    topic,
    shopDomain: shop.shopDomain,
    secret,
  });
  return { ...res, stored: (await stored(shop)) - before };
}

describe('a remembered shop', () => {
  it('is remembered after a read, and a fresh read can be asked for', async () => {
    const shop = await createShop(db);
    const store = createWebhookStore(db.sql);
    expect(await store.route(shop.shopDomain, { fresh: false })).toMatchObject({ remembered: false });
    expect(await store.route(shop.shopDomain.toUpperCase(), { fresh: false })).toMatchObject({
      remembered: true,
      integration: { id: shop.integrationId },
    });
    expect(await store.route(shop.shopDomain, { fresh: true })).toMatchObject({ remembered: false });
    // An unknown shop is not remembered as unknown: it may connect the next second.
    expect(await store.route('nobody.myshopify.com', { fresh: false })).toBeNull();
  });

  it('a new secret takes effect at once: the new one taken, the old one refused', async () => {
    const shop = await createShop(db);
    expect(await send(shop, shop.secret)).toMatchObject({ status: 200, stored: 1 });
    await db.sql`
      update integrations set webhook_secret_enc = ${encryptSecret('brand-new-secret', db.key)}
      where id = ${shop.integrationId}`;
    // Signed with the new secret while the old one is remembered: read again, taken.
    expect(await send(shop, 'brand-new-secret')).toMatchObject({ status: 200, stored: 1 });
    expect(await send(shop, shop.secret)).toMatchObject({ status: 401, stored: 0 });
    // Signed with the secret remembered, which the integration no longer holds: refused in the
    // database, read again, 401.
    await db.sql`
      update integrations set webhook_secret_enc = ${encryptSecret('newer-still', db.key)}
      where id = ${shop.integrationId}`;
    expect(await send(shop, 'brand-new-secret')).toMatchObject({ status: 401, stored: 0 });
    expect(await send(shop, 'newer-still')).toMatchObject({ status: 200, stored: 1 });
  });

  it('disabled: orders are ignored at once, compliance topics still taken; enabled again: taken at once', async () => {
    const shop = await createShop(db);
    expect(await send(shop, shop.secret)).toMatchObject({ status: 200, stored: 1 });
    await db.sql`update integrations set is_active = false where id = ${shop.integrationId}`;
    expect(await send(shop, shop.secret)).toMatchObject({
      status: 200,
      body: { ok: true, status: 'ignored' },
      stored: 0,
    });
    expect(await send(shop, shop.secret, 'customers/redact')).toMatchObject({ status: 200, stored: 1 });
    await db.sql`update integrations set is_active = true where id = ${shop.integrationId}`;
    expect(await send(shop, shop.secret)).toMatchObject({
      status: 200,
      body: { ok: true, status: 'accepted' },
      stored: 1,
    });
  });

  it('moved to another shop domain, or deleted: the old domain is ignored at once', async () => {
    const shop = await createShop(db);
    const moved = await createShop(db);
    expect(await send(moved, moved.secret)).toMatchObject({ status: 200, stored: 1 });
    await db.sql`
      update integrations set config = jsonb_set(config, '{shopDomain}', to_jsonb(${`moved-${moved.shopDomain}`}::text))
      where id = ${moved.integrationId}`;
    expect(await send(moved, moved.secret)).toMatchObject({
      status: 200,
      body: { status: 'ignored' },
      stored: 0,
    });

    expect(await send(shop, shop.secret)).toMatchObject({ status: 200, stored: 1 });
    const before = await count(db.sql, 'webhook_events', 'true');
    await db.sql`delete from integrations where id = ${shop.integrationId}`;
    const res = await deliver(app.url, {
      body: orderPayload().text,
      shopDomain: shop.shopDomain,
      secret: shop.secret,
    });
    expect(res).toMatchObject({ status: 200, body: { status: 'ignored' } });
    expect(await count(db.sql, 'webhook_events', 'true')).toBe(before - 1); // the cascade, nothing new
  });
});

describe('app.store_webhook_events', () => {
  let a: Shop;
  let b: Shop;
  let secretOf: Map<string, string>;

  beforeAll(async () => {
    a = await createShop(db);
    b = await createShop(db, {
      previousSecret: { secret: 'b-old', expiresAt: new Date(Date.now() + 60_000) },
    });
    const rows = await db.sql<{ id: string; current: string; previous: string | null }[]>`
      select id, webhook_secret_enc as current, webhook_secret_previous_enc as previous
      from integrations where id in (${a.integrationId}, ${b.integrationId})`;
    secretOf = new Map(
      rows.flatMap((r) => [
        [r.id, r.current],
        [`${r.id}:previous`, r.previous ?? ''],
      ]),
    );
  });

  let n = 0;
  const event = (shop: Shop, overrides: Partial<VerifiedWebhookEvent> = {}): VerifiedWebhookEvent => {
    n += 1;
    return {
      workspaceId: shop.workspaceId,
      integrationId: shop.integrationId,
      externalId: `direct-${n}`,
      eventId: null,
      topic: 'orders/create',
      shopDomain: shop.shopDomain,
      apiVersion: '2025-10',
      triggeredAt: null,
      payload: `{"id":${n},"note":"caf\u00e9 \\"quoted\\" \\\\ back"}`,
      headers: { 'x-shopify-topic': 'orders/create' },
      verifiedWith: secretOf.get(shop.integrationId) ?? '',
      needsActiveIntegration: true,
      ...overrides,
    };
  };

  it('stores the events of two workspaces in one call, each in its own workspace, payload byte for byte', async () => {
    const events = [
      event(a),
      event(b),
      event(b, { verifiedWith: secretOf.get(`${b.integrationId}:previous`) }),
    ];
    const outcomes = await storeWebhookEvents(db.sql, events);
    expect([...outcomes.values()]).toEqual(['accepted', 'accepted', 'accepted']);
    const rows = await db.sql<{ external_id: string; workspace_id: string; payload: string; xid: string }[]>`
      select external_id, workspace_id, payload, xmin::text as xid from webhook_events
      where external_id = any(${events.map((e) => e.externalId)})`;
    for (const e of events) {
      expect(rows.find((r) => r.external_id === e.externalId)).toMatchObject({
        workspace_id: e.workspaceId,
        payload: e.payload,
      });
    }
    expect(new Set(rows.map((r) => r.xid)).size).toBe(1); // one transaction
    // Each event queued: pending, due now, held by no worker, no attempt yet; no job beside it.
    const queued = await db.sql<
      { status: string; due: boolean; locked_by: string | null; attempts: number }[]
    >`
      select status, run_at <= now() as due, locked_by, attempts from webhook_events
      where external_id = any(${events.map((e) => e.externalId)})`;
    expect(queued).toEqual(
      Array.from({ length: 3 }, () => ({ status: 'pending', due: true, locked_by: null, attempts: 0 })),
    );
    expect(await count(db.sql, 'graphile_worker._private_jobs', 'true')).toBe(0);
  });

  it('answers duplicate for a webhook id stored before, and stale for what the integration no longer allows', async () => {
    const first = event(a);
    await storeWebhookEvents(db.sql, [first]);
    const cases: [string, VerifiedWebhookEvent][] = [
      ['a secret it does not hold', event(a, { verifiedWith: secretOf.get(b.integrationId) })],
      ['another workspace', event(a, { workspaceId: b.workspaceId })],
      ['another shop domain', event(a, { shopDomain: b.shopDomain })],
    ];
    const outcomes = await storeWebhookEvents(db.sql, [first, ...cases.map(([, e]) => e)]);
    expect(outcomes.get(webhookEventKey(a.integrationId, first.externalId))).toBe('duplicate');
    for (const [what, e] of cases) {
      expect(outcomes.get(webhookEventKey(e.integrationId, e.externalId)), what).toBe('stale');
    }
    expect(
      await count(db.sql, 'webhook_events', 'external_id = any($1)', [cases.map(([, e]) => e.externalId)]),
    ).toBe(0);
  });

  it('an inactive integration takes only what does not need it active; an expired previous secret is stale', async () => {
    const off = await createShop(db, {
      isActive: false,
      previousSecret: { secret: 'off-old', expiresAt: new Date(Date.now() - 1000) },
    });
    const [row] = await db.sql<{ current: string; previous: string }[]>`
      select webhook_secret_enc as current, webhook_secret_previous_enc as previous
      from integrations where id = ${off.integrationId}`;
    const base = { ...event(off), verifiedWith: row?.current ?? '' };
    const order = { ...base, externalId: 'off-order' };
    const redact = { ...base, externalId: 'off-redact', topic: 'shop/redact', needsActiveIntegration: false };
    const expired = { ...redact, externalId: 'off-expired', verifiedWith: row?.previous ?? '' };
    const outcomes = await storeWebhookEvents(db.sql, [order, redact, expired]);
    expect(Object.fromEntries([...outcomes].map(([k, v]) => [k.split('\u0000')[1], v]))).toEqual({
      'off-order': 'stale',
      'off-redact': 'accepted',
      'off-expired': 'stale',
    });
  });

  it('sends no NOTIFY inside the transaction that stores (no job, no wake-up in the ack commit)', async () => {
    const listener = postgres(db.url, { max: 1, onnotice: () => {} });
    const heard: string[] = [];
    try {
      await listener.listen('crm_webhook_events', (payload) => heard.push(payload));
      await listener.listen('jobs:insert', (payload) => heard.push(payload));
      expect([...(await storeWebhookEvents(db.sql, [event(a)])).values()]).toEqual(['accepted']);
      await listener`select pg_notify('crm_webhook_events', 'marker')`; // delivered after anything before it
      await waitFor(async () => heard.length > 0, { timeoutMs: 5000, intervalMs: 10, what: 'the marker' });
      expect(heard).toEqual(['marker']);
    } finally {
      await listener.end({ timeout: 1 });
    }
  });

  it('runs as app_worker even on a superuser connection, so row-level security still decides', async () => {
    const [who] = await transaction(db.sql, async (tx) => {
      await storeWebhookEvents(tx, [event(a)]);
      return tx<{ role: string; ws: string }[]>`
        select current_user as role, current_setting('app.workspace_id') as ws`;
    });
    expect(who).toEqual({ role: 'app_worker', ws: a.workspaceId });
  });
});

describe('waking the workers', () => {
  it('a NOTIFY on crm_webhook_events after the commit; the statement that stores sends none', async () => {
    const shop = await createShop(db);
    const listener = postgres(db.url, { max: 1, onnotice: () => {} });
    const heard: string[] = [];
    try {
      await listener.listen('crm_webhook_events', (payload) => heard.push(payload));
      await listener.listen('jobs:insert', (payload) => heard.push(`jobs:insert ${payload}`));
      // The route's store wakes the workers once its group is committed.
      const res = await deliver(app.url, {
        body: orderPayload().text,
        shopDomain: shop.shopDomain,
        secret: shop.secret,
      });
      expect(res.status).toBe(200);
      await waitFor(async () => heard.length > 0, { timeoutMs: 5000, intervalMs: 10, what: 'the NOTIFY' });
      expect(heard).toEqual(['']);
    } finally {
      await listener.end({ timeout: 1 });
    }
  });

  it('coalesces wake-ups: one in flight at a time, one more for every kick meanwhile', async () => {
    const sent: (() => void)[] = [];
    const waker = createWaker(() => new Promise<void>((resolve) => sent.push(resolve)), 0);
    waker.kick();
    waker.kick();
    waker.kick();
    expect(sent).toHaveLength(1);
    sent[0]?.();
    await waitFor(async () => sent.length === 2, {
      timeoutMs: 2000,
      intervalMs: 1,
      what: 'the second NOTIFY',
    });
    sent[1]?.();
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toHaveLength(2);
  });
});
