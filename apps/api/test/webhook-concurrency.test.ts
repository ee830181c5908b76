/**
 * Duplicates and races, over real HTTP and a real PostgreSQL: Shopify redelivers, sometimes at the
 * same moment, and one merchant action can reach us under several webhook ids.
 */
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JobRunner, startJobRunner } from '../src/jobs/runner.ts';
import { startTestApp, type TestApp, waitForIdleQueue } from '../src/testing/index.ts';
import {
  count,
  createShop,
  deliver,
  holdOrderLines,
  orderPayload,
  type Shop,
  waitFor,
} from './webhook-support.ts';

let db: TestDatabase;
let app: TestApp;
let extraWorkers: JobRunner | null = null;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db);
});

afterAll(async () => {
  await extraWorkers?.stop();
  await app?.close();
  await db?.drop();
});

/** Two worker pools (4 + 8 workers) in this process, as if on two machines. */
async function runManyWorkers(): Promise<void> {
  extraWorkers ??= await startJobRunner(app.deps, { concurrency: 8, databaseUrl: db.url });
  await app.runJobs();
}

const ordersOf = (shop: Shop) => count(db.sql, 'orders', 'workspace_id = $1', [shop.workspaceId]);

describe('concurrent deliveries', () => {
  it('50 concurrent deliveries of one webhook id → one event, one job, one order', async () => {
    const shop = await createShop(db);
    const order = orderPayload();
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        deliver(app.url, {
          body: order.text,
          shopDomain: shop.shopDomain,
          secret: shop.secret,
          webhookId: 'same-id',
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    const statuses = results.map((r) => (r.body as { status: string }).status);
    expect(statuses.filter((s) => s === 'accepted')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'duplicate')).toHaveLength(49);
    expect(await count(db.sql, 'webhook_events', 'workspace_id = $1', [shop.workspaceId])).toBe(1);
    // Queued once: one pending event, and no job beside it.
    expect(
      await count(db.sql, 'webhook_events', `workspace_id = $1 and status = 'pending'`, [shop.workspaceId]),
    ).toBe(1);
    expect(await count(db.sql, 'graphile_worker._private_jobs', 'true')).toBe(0);

    await runManyWorkers();
    expect(await ordersOf(shop)).toBe(1);
    expect(
      await count(db.sql, 'webhook_events', `workspace_id = $1 and status = 'processed'`, [shop.workspaceId]),
    ).toBe(1);
  });

  it('20 webhook ids for one Shopify order, delivered and processed concurrently → one order, none failed', async () => {
    const shop = await createShop(db);
    const order = orderPayload();
    const topics = ['orders/create', 'orders/updated', 'orders/paid', 'orders/create'];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        deliver(app.url, {
          body: order.text,
          topic: topics[i % topics.length],
          shopDomain: shop.shopDomain,
          secret: shop.secret,
          webhookId: `many-${i}`,
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    await runManyWorkers();
    expect(await ordersOf(shop)).toBe(1);
    expect(await count(db.sql, 'order_products', 'workspace_id = $1', [shop.workspaceId])).toBe(2);
    expect(await count(db.sql, 'contacts', 'workspace_id = $1', [shop.workspaceId])).toBe(1);
    expect(
      await count(db.sql, 'webhook_events', `workspace_id = $1 and status = 'processed'`, [shop.workspaceId]),
    ).toBe(20);
  });
});

describe('deliveries stored together (group commit)', () => {
  it('concurrent deliveries of two shops share transactions; each is answered for itself and gets one job', async () => {
    const a = await createShop(db);
    const b = await createShop(db);
    const sends = Array.from({ length: 48 }, (_, i) => {
      const shop = i % 2 === 0 ? a : b;
      // Every fourth delivery repeats an earlier webhook id of its shop (Shopify redelivering).
      const webhookId = `together-${i % 4 === 3 ? i - 2 : i}`;
      return { shop, webhookId };
    });
    const results = await Promise.all(
      sends.map(({ shop, webhookId }) =>
        deliver(app.url, {
          body: orderPayload().text,
          shopDomain: shop.shopDomain,
          secret: shop.secret,
          webhookId,
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(48).fill(200));
    const distinct = new Set(sends.map((s) => `${s.shop.workspaceId}/${s.webhookId}`));
    const accepted = results.filter((r) => (r.body as { status: string }).status === 'accepted');
    expect(accepted).toHaveLength(distinct.size);

    for (const shop of [a, b]) {
      const rows = await db.sql<{ id: string; external_id: string; tx: string }[]>`
        select id, external_id, xmin::text as tx from webhook_events where workspace_id = ${shop.workspaceId}`;
      const expected = new Set(sends.filter((s) => s.shop === shop).map((s) => s.webhookId));
      expect(new Set(rows.map((r) => r.external_id))).toEqual(expected);
      expect(rows).toHaveLength(expected.size);
    }
    // Fewer transactions than events: deliveries that arrived together were committed together.
    const [grouped] = await db.sql<{ events: number; transactions: number }[]>`
      select count(*)::int as events, count(distinct xmin::text)::int as transactions
      from webhook_events where workspace_id in (${a.workspaceId}, ${b.workspaceId})`;
    expect(grouped?.transactions).toBeLessThan(grouped?.events ?? 0);

    // Every event was queued: all are processed, one order each.
    await runManyWorkers();
    for (const shop of [a, b]) {
      expect(
        await count(db.sql, 'webhook_events', `workspace_id = $1 and status <> 'processed'`, [
          shop.workspaceId,
        ]),
      ).toBe(0);
    }
    expect((await ordersOf(a)) + (await ordersOf(b))).toBe(distinct.size);
  });

  it('one delivery the database refuses gets 503 alone; the deliveries batched with it are stored and acked', async () => {
    const shop = await createShop(db);
    await db.sql`
      create function pg_temp_refuse_poison() returns trigger language plpgsql as $$
      begin
        if new.external_id = 'poison' then raise exception 'refused for the test'; end if;
        return new;
      end $$`;
    await db.sql`
      create trigger refuse_poison before insert on webhook_events
      for each row execute function pg_temp_refuse_poison()`;
    try {
      const ids = Array.from({ length: 24 }, (_, i) => (i === 12 ? 'poison' : `healthy-${i}`));
      const results = await Promise.all(
        ids.map((webhookId) =>
          deliver(app.url, {
            body: orderPayload().text,
            shopDomain: shop.shopDomain,
            secret: shop.secret,
            webhookId,
          }),
        ),
      );
      const byId = new Map(ids.map((id, i) => [id, results[i]?.status]));
      expect(byId.get('poison')).toBe(503);
      expect(ids.filter((id) => id !== 'poison').map((id) => byId.get(id))).toEqual(Array(23).fill(200));
      const stored = await db.sql<{ external_id: string }[]>`
        select external_id from webhook_events where workspace_id = ${shop.workspaceId}`;
      expect(stored.map((r) => r.external_id).sort()).toEqual(ids.filter((id) => id !== 'poison').sort());
    } finally {
      await db.sql`drop trigger refuse_poison on webhook_events`;
      await db.sql`drop function pg_temp_refuse_poison()`;
    }
    // Shopify's retry of the refused delivery is taken once the database takes it.
    const retry = await deliver(app.url, {
      body: orderPayload().text,
      shopDomain: shop.shopDomain,
      secret: shop.secret,
      webhookId: 'poison',
    });
    expect(retry).toEqual({ status: 200, body: { ok: true, status: 'accepted' } });
  });
});

describe('two orders from one new customer at once', () => {
  /**
   * Holds every order line insert of the database back until both jobs are inside their transactions
   * (the first holding its new contact and order, waiting on the table lock; the other waiting on the first), then lets go.
   */
  async function processBothAtOnce(shop: Shop, bodies: string[]): Promise<void> {
    const hold = await holdOrderLines(db);
    try {
      for (const [i, body] of bodies.entries()) {
        const res = await deliver(app.url, {
          body,
          shopDomain: shop.shopDomain,
          secret: shop.secret,
          webhookId: `pair-${shop.workspaceId}-${i}`,
        });
        expect(res.status).toBe(200);
      }
      extraWorkers ??= await startJobRunner(app.deps, { concurrency: 8, databaseUrl: db.url });
      await waitFor(
        async () => {
          const [row] = await db.sql<{ n: number }[]>`
            select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`;
          return (row?.n ?? 0) >= 2;
        },
        { what: 'both jobs waiting inside their transactions' },
      );
    } finally {
      await hold.release();
    }
    await waitForIdleQueue(app.deps);
  }

  it('with a phone: one contact, both orders linked to it, no review', async () => {
    const shop = await createShop(db);
    const a = orderPayload({ name: '#3001' });
    const b = orderPayload({ name: '#3002' });
    await processBothAtOnce(shop, [a.text, b.text]);
    const contacts = await db.sql<
      { id: string }[]
    >`select id from contacts where workspace_id = ${shop.workspaceId}`;
    expect(contacts).toHaveLength(1);
    const orders = await db.sql<
      { contact_id: string }[]
    >`select contact_id from orders where workspace_id = ${shop.workspaceId}`;
    expect(orders).toHaveLength(2);
    expect(orders.every((o) => o.contact_id === contacts[0]?.id)).toBe(true);
    expect(await count(db.sql, 'contact_reviews', 'workspace_id = $1', [shop.workspaceId])).toBe(0);
    expect(
      await count(db.sql, 'webhook_events', `workspace_id = $1 and status = 'processed'`, [shop.workspaceId]),
    ).toBe(2);
  });

  it('without a phone, by email: one contact', async () => {
    const shop = await createShop(db);
    const noPhone = { phone: null, noteAttributes: [] };
    await processBothAtOnce(shop, [orderPayload(noPhone).text, orderPayload(noPhone).text]);
    expect(await count(db.sql, 'contacts', 'workspace_id = $1', [shop.workspaceId])).toBe(1);
    expect(
      await count(db.sql, 'orders', 'workspace_id = $1 and contact_id is not null', [shop.workspaceId]),
    ).toBe(2);
  });
});
