/**
 * No statement of the worker path (webhook → job → order) or of the owner's lists reads a tenant
 * table sequentially, as the roles that run them (app_worker, app_user) under forced row-level
 * security: a workspace of 20k contacts (and as many orders, lines and events) gets a batch of orders
 * of every kind — returning customers by phone and by email (another case), look-alikes for the fuzzy
 * lookup, new customers, updates and cancellations — and the owner opens the events (with the topics
 * of their filter), orders and reviews lists. pg_stat_user_tables.seq_scan of the tenant tables must
 * not grow. The counters are flushed when a backend exits: the app's pools are closed, and the
 * counts are read once they show the batch's writes.
 */
import { randomBytes } from 'node:crypto';
import { createSql, withUser } from '@crm/db';
import { listContactReviews, listEvents, listEventTopics, listOrders } from '@crm/db/owner';
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp } from '../src/testing/index.ts';
import { createShop, deliver, orderPayload, type Shop } from './webhook-support.ts';

const TABLES = ['contacts', 'orders', 'order_products', 'products', 'webhook_events'];
const SIZE = 20_000;

let db: TestDatabase;
let shop: Shop;
let ownerId: string;

type Counts = Map<string, { seqScan: number; inserted: number; updated: number }>;

async function counts(): Promise<Counts> {
  const rows = await db.sql<{ relname: string; seq_scan: string; n_tup_ins: string; n_tup_upd: string }[]>`
    select relname, seq_scan, n_tup_ins, n_tup_upd from pg_stat_user_tables
    where schemaname = 'public' and relname = any(${TABLES}::text[])`;
  return new Map(
    rows.map((r) => [
      r.relname,
      { seqScan: Number(r.seq_scan), inserted: Number(r.n_tup_ins), updated: Number(r.n_tup_upd) },
    ]),
  );
}

/** Reads the counters until `ready` says the batch's backends have flushed theirs (at most 15 s). */
async function countsOnceFlushed(ready: (c: Counts) => boolean): Promise<Counts> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const c = await counts();
    if (ready(c) || Date.now() > deadline) return c;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** 20k of everything in the shop's workspace, as the superuser in a few statements. */
async function load(url: string): Promise<void> {
  const sql = createSql(url, { max: 1 });
  try {
    const ws = shop.workspaceId;
    await sql`
      insert into contacts (workspace_id, name, phone, email, city, department)
      select ${ws}::uuid,
             (array['Ana','Luis','María','Jorge','Sofía','Carlos'])[1 + g % 6] || ' ' ||
             (array['Gómez','Pérez','Rodríguez','López','Martínez'])[1 + (g / 6) % 5] || ' ' || g,
             '+573' || lpad((100000000 + g)::text, 9, '0'),
             'cliente' || g || '@example.com',
             (array['Bogotá','Medellín','Cali','Barranquilla'])[1 + g % 4], 'Cundinamarca'
      from generate_series(1, ${SIZE}) as g`;
    await sql`
      insert into products (workspace_id, sku, title, price)
      select ${ws}::uuid, 'SKU-' || g, 'Producto número ' || g, 1000 + g
      from generate_series(1, ${SIZE}) as g`;
    await sql`
      insert into orders (workspace_id, contact_id, pipeline_id, stage_id, integration_id, shopify_order_id,
                          shopify_order_name, created_at)
      select ${ws}::uuid, c.id, ${shop.pipelineId}::uuid, ${shop.stages.first}::uuid, ${shop.integrationId}::uuid,
             (900000000000 + row_number() over ())::text, '#' || row_number() over (),
             now() - interval '1 day'
      from contacts c where c.workspace_id = ${ws}`;
    await sql`
      insert into order_products (workspace_id, order_id, sku, title, unit_price, quantity, subtotal)
      select workspace_id, id, 'SKU-1', 'Producto número 1', 1001, 1, 1001 from orders where workspace_id = ${ws}`;
    await sql`
      insert into webhook_events (workspace_id, integration_id, external_id, topic, shop_domain, payload, status,
                                  received_at, processed_at)
      select ${ws}::uuid, ${shop.integrationId}::uuid, 'old-' || g,
             (array['orders/create','orders/updated','orders/paid'])[1 + g % 3], ${shop.shopDomain}, '{}',
             'processed', now() - interval '1 day', now() - interval '1 day'
      from generate_series(1, ${SIZE}) as g`;
    const [user] = await sql<{ id: string }[]>`
      insert into users (email, name, password_hash)
      values (${`owner-${randomBytes(4).toString('hex')}@example.com`}, 'Owner', 'x') returning id`;
    if (!user) throw new Error('no user');
    ownerId = user.id;
    await sql`insert into workspace_members (workspace_id, user_id, role) values (${ws}, ${ownerId}, 'owner')`;
    await sql`analyze`;
    // Generic plans, as a hot prepared statement gets after its fifth execution (whichever connection
    // of the pool runs it): the plans that must not scan, whatever the parameters.
    await sql.unsafe(`alter database ${sql.options.database} set plan_cache_mode = force_generic_plan`);
    if (process.env.SCAN_DEBUG) {
      await sql.unsafe(
        `alter database ${sql.options.database} set session_preload_libraries = 'auto_explain'`,
      );
      await sql.unsafe(`alter database ${sql.options.database} set auto_explain.log_min_duration = 0`);
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  shop = await createShop(db);
  await load(db.url);
}, 180_000);

afterAll(async () => {
  if (!process.env.KEEP_DB) await db?.drop();
  else console.log('kept', db?.name, shop?.workspaceId, ownerId);
});

it('processes orders and lists them without a sequential scan of a tenant table', async () => {
  // The loader's own counters (its inserts, its scans) must be in before the baseline is taken.
  const before = await countsOnceFlushed((c) =>
    ['contacts', 'orders', 'order_products', 'products', 'webhook_events'].every(
      (t) => (c.get(t)?.inserted ?? 0) >= SIZE,
    ),
  );
  const app = await startTestApp(db);
  const sends: { topic: string; body: string }[] = [];
  const line = (k: number) => ({
    sku: `sku-${k}`,
    title: `Producto número ${k}`,
    price: '1000.00',
    quantity: 1,
  });
  for (let i = 1; i <= 8; i++) {
    // a returning customer by phone; by email (other case, no phone); a look-alike (same city, new
    // phone one digit off); a new customer without a phone
    sends.push({
      topic: 'orders/create',
      body: orderPayload({ phone: `31${String(100000000 + i * 7).slice(1)}`, lines: [line(i)] }).text,
    });
    sends.push({
      topic: 'orders/create',
      body: orderPayload({ phone: null, email: `CLIENTE${i * 11}@Example.com`, lines: [line(i + 1)] }).text,
    });
    sends.push({
      topic: 'orders/create',
      body: orderPayload({
        firstName: 'Ana',
        lastName: `${['Gómez', 'Pérez', 'Rodríguez', 'López', 'Martínez'][i % 5]} ${i * 6}`,
        city: 'Bogotá',
        phone: `32${String(100000000 + i * 6).slice(1)}`,
        email: null,
        lines: [line(i + 2)],
      }).text,
    });
    sends.push({
      topic: 'orders/create',
      body: orderPayload({
        firstName: `Nueva${i}`,
        lastName: 'Persona',
        phone: null,
        email: `nueva-${i}@example.org`,
        lines: [line(i + 3)],
      }).text,
    });
  }
  const updated = orderPayload({ updatedAt: '2030-01-01T00:00:00Z', lines: [line(1)] });
  sends.push({ topic: 'orders/create', body: orderPayload({ id: updated.id, lines: [line(1)] }).text });
  sends.push({ topic: 'orders/updated', body: updated.text });
  sends.push({
    topic: 'orders/cancelled',
    body: orderPayload({
      id: updated.id,
      updatedAt: '2030-01-02T00:00:00Z',
      cancelledAt: '2030-01-02T00:00:00Z',
      lines: [line(1)],
    }).text,
  });
  try {
    for (const [i, s] of sends.entries()) {
      const res = await deliver(app.url, {
        body: s.body,
        topic: s.topic,
        shopDomain: shop.shopDomain,
        secret: shop.secret,
        webhookId: `scan-${i}`,
      });
      expect(res.status).toBe(200);
    }
    await app.runJobs({ timeoutMs: 60_000 });
    await withUser(app.deps.sql, ownerId, async (tx) => {
      const ws = shop.workspaceId;
      expect((await listEvents(tx, { workspaceId: ws, limit: 50 })).length).toBe(50);
      await listEvents(tx, { workspaceId: ws, status: 'failed', limit: 50 });
      await listEvents(tx, { workspaceId: ws, topic: 'orders/cancelled', limit: 50 });
      expect(await listEventTopics(tx, ws)).toContain('orders/cancelled');
      expect((await listOrders(tx, { workspaceId: ws, limit: 50 })).length).toBe(50);
      await listOrders(tx, {
        workspaceId: ws,
        pipelineId: shop.pipelineId,
        stageId: shop.stages.first,
        limit: 50,
      });
      await listContactReviews(tx, { workspaceId: ws, status: 'pending', limit: 50 });
    });
  } finally {
    await app.close();
  }

  const after = await countsOnceFlushed(
    (c) =>
      (c.get('orders')?.inserted ?? 0) >= (before.get('orders')?.inserted ?? 0) + 33 &&
      (c.get('webhook_events')?.updated ?? 0) >=
        (before.get('webhook_events')?.updated ?? 0) + 2 * sends.length,
  );
  expect((after.get('orders')?.inserted ?? 0) - (before.get('orders')?.inserted ?? 0)).toBe(33);
  const grown = TABLES.filter((t) => (after.get(t)?.seqScan ?? 0) > (before.get(t)?.seqScan ?? 0)).map(
    (t) => `${t}: ${before.get(t)?.seqScan} → ${after.get(t)?.seqScan}`,
  );
  const [state] = await db.sql<{ processed: number; failed: number; orders: number; reviews: number }[]>`
    select (select count(*)::int from webhook_events where external_id like 'scan-%' and status = 'processed') as processed,
           (select count(*)::int from webhook_events where external_id like 'scan-%' and status = 'failed') as failed,
           (select count(*)::int from orders where workspace_id = ${shop.workspaceId}) - ${SIZE} as orders,
           (select count(*)::int from contact_reviews) as reviews`;
  expect(state).toEqual({ processed: sends.length, failed: 0, orders: 33, reviews: expect.any(Number) });
  expect(state?.reviews).toBeGreaterThan(0);
  expect(grown).toEqual([]);
}, 240_000);
