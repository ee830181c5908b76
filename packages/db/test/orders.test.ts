import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Queryable } from '../src/client.ts';
import { transaction, withUser, withWorkspace } from '../src/rls.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';
import { buildFixtures, type Fixtures, type WorkspaceFixture } from './fixtures.ts';
import { pgErrorCode, tableUpdates } from './helpers.ts';

let db: TestDatabase;
let f: Fixtures;

beforeAll(async () => {
  db = await createTestDatabase();
  f = await buildFixtures(db.sql);
});
afterAll(async () => {
  await db?.drop();
});

async function newOrder(
  q: Queryable,
  w: WorkspaceFixture,
  shopifyOrderId: string | null = null,
): Promise<string> {
  const [row] = await q<{ id: string }[]>`
    insert into orders (workspace_id, pipeline_id, stage_id, shopify_order_id)
    values (${w.id}, ${w.pipeline}, ${w.stage}, ${shopifyOrderId}) returning id`;
  if (!row) throw new Error('order not created');
  return row.id;
}

async function addLine(q: Queryable, w: WorkspaceFixture, order: string, subtotal: string, quantity = 1) {
  const [row] = await q<{ id: string }[]>`
    insert into order_products (workspace_id, order_id, sku, title, unit_price, quantity, subtotal)
    values (${w.id}, ${order}, 'SKU', 'Line', ${subtotal}, ${quantity}, ${subtotal}) returning id`;
  if (!row) throw new Error('line not created');
  return row.id;
}

async function total(order: string): Promise<string | undefined> {
  const [row] = await db.sql<{ total_value: string }[]>`select total_value from orders where id = ${order}`;
  return row?.total_value;
}

describe('the order total follows its lines', () => {
  it('updates the order once per statement, however many of its lines the statement writes (0025)', async () => {
    const order = await newOrder(db.sql, f.a);
    const updates = await transaction(db.sql, async (tx) => {
      const count = async () => (await tableUpdates(tx, 'orders')).updated;
      const before = await count();
      await tx`
        insert into order_products (workspace_id, order_id, sku, title, unit_price, quantity, subtotal)
        select ${f.a.id}, ${order}, 'SKU' || g, 'Line', 1.50, 1, 1.50 from generate_series(1, 3) g`;
      const afterInsert = await count();
      await tx`update order_products set subtotal = 2.00 where order_id = ${order}`;
      return { insert: afterInsert - before, update: (await count()) - afterInsert };
    });
    expect(updates).toEqual({ insert: 1, update: 1 });
    expect(await total(order)).toBe('6.00');
  });

  it('starts at zero and adds each line, in exact decimals', async () => {
    const order = await newOrder(db.sql, f.a);
    expect(await total(order)).toBe('0.00');
    await addLine(db.sql, f.a, order, '0.10');
    await addLine(db.sql, f.a, order, '0.20');
    // 0.1 + 0.2 in binary floating point is 0.30000000000000004.
    expect(await total(order)).toBe('0.30');
    await addLine(db.sql, f.a, order, '59950.00', 3);
    expect(await total(order)).toBe('59950.30');
  });

  it('follows a changed quantity and subtotal, a deleted line, and a line moved to another order', async () => {
    const order = await newOrder(db.sql, f.a);
    const other = await newOrder(db.sql, f.a);
    const line = await addLine(db.sql, f.a, order, '10.00');
    const second = await addLine(db.sql, f.a, order, '5.25');
    expect(await total(order)).toBe('15.25');

    await db.sql`update order_products set quantity = 3, subtotal = '30.00' where id = ${line}`;
    expect(await total(order)).toBe('35.25');

    await db.sql`delete from order_products where id = ${second}`;
    expect(await total(order)).toBe('30.00');

    await db.sql`update order_products set order_id = ${other} where id = ${line}`;
    expect(await total(order)).toBe('0.00');
    expect(await total(other)).toBe('30.00');
  });

  it('overrides a direct write to total_value', async () => {
    const order = await newOrder(db.sql, f.a);
    await addLine(db.sql, f.a, order, '12.34');
    await db.sql`update orders set total_value = 999 where id = ${order}`;
    expect(await total(order)).toBe('12.34');
    const [inserted] = await db.sql<{ total_value: string }[]>`
      insert into orders (workspace_id, pipeline_id, stage_id, total_value)
      values (${f.a.id}, ${f.a.pipeline}, ${f.a.stage}, 500) returning total_value`;
    expect(inserted?.total_value).toBe('0.00');
  });

  it('is kept for app_user and app_worker writes too (the triggers run under RLS)', async () => {
    const byUser = await withUser(db.sql, f.users.agentA, async (tx) => {
      const order = await newOrder(tx, f.a);
      await addLine(tx, f.a, order, '7.00', 2);
      return order;
    });
    expect(await total(byUser)).toBe('7.00');
    const byWorker = await withWorkspace(db.sql, f.b.id, async (tx) => {
      const order = await newOrder(tx, f.b);
      await addLine(tx, f.b, order, '1.50');
      await addLine(tx, f.b, order, '2.50');
      return order;
    });
    expect(await total(byWorker)).toBe('4.00');
  });

  it('stays the sum when lines of one order are written by concurrent transactions', async () => {
    const order = await newOrder(db.sql, f.a);
    // Each transaction holds its line uncommitted while the others insert theirs.
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        transaction(db.sql, async (tx) => {
          await addLine(tx, f.a, order, `${i + 1}.00`);
          await tx`select pg_sleep(0.05)`;
        }),
      ),
    );
    expect(await total(order)).toBe('21.00');
    const [sum] = await db.sql<{ s: string }[]>`
      select sum(subtotal)::numeric(12, 2)::text as s from order_products where order_id = ${order}`;
    expect(sum?.s).toBe('21.00');
  });
  it('reads only the orders of the lines it wrote, with a plan made while orders was nearly empty (0028)', async () => {
    // One session, as a worker's connection: the plans of the lines' foreign-key check and of the
    // trigger's statement are made on the first lines it writes and kept until an ANALYZE, which never
    // comes with autovacuum off. Without the worker's planner settings they scanned orders; with them
    // and the trigger of 0025 they read the workspace's orders through an index (6,018 rows here).
    await db.sql`analyze orders`;
    const session = createSql(db.url, { max: 1 });
    try {
      const writeOrder = () =>
        withWorkspace(session, f.b.id, async (tx) => {
          const order = await newOrder(tx, f.b);
          await addLine(tx, f.b, order, '3.00');
          await addLine(tx, f.b, order, '4.00');
          const [read] = await tx<{ rows: number }[]>`
            select (seq_tup_read + coalesce(idx_tup_fetch, 0))::int as rows
            from pg_stat_xact_user_tables where relid = 'public.orders'::regclass`;
          return { order, rows: read?.rows ?? Number.NaN };
        });
      await writeOrder();
      // The workspace's orders grow by 3,000 without an ANALYZE.
      await db.sql`
        insert into orders (workspace_id, pipeline_id, stage_id)
        select ${f.b.id}, ${f.b.pipeline}, ${f.b.stage} from generate_series(1, 3000)`;
      const { order, rows } = await writeOrder();
      expect(await total(order)).toBe('7.00');
      // Its own order, by key: a few index fetches, not the workspace's 3,000 orders per statement.
      expect(rows).toBeLessThan(20);
    } finally {
      await session.end({ timeout: 5 });
    }
  });
});

describe('shopify_order_id', () => {
  const big = '6114532901234567891'; // above 2^53 = 9007199254740992

  it('round-trips an id above 2^53 exactly', async () => {
    expect(Number(big).toString()).not.toBe(big); // a JS number would lose it
    const order = await newOrder(db.sql, f.a, '7000000000000000001');
    const [row] = await db.sql<{ shopify_order_id: string }[]>`
      select shopify_order_id from orders where id = ${order}`;
    expect(row?.shopify_order_id).toBe('7000000000000000001');
    const [fixture] = await db.sql<{ shopify_order_id: string }[]>`
      select shopify_order_id from orders where id = ${f.a.order}`;
    expect(fixture?.shopify_order_id).toBe(big);
  });

  it('refuses a second order with the same id in one workspace (23505), also by the worker', async () => {
    // The fixture order of A carries `big` already.
    expect(await pgErrorCode(newOrder(db.sql, f.a, big))).toBe('23505');
    expect(await pgErrorCode(withWorkspace(db.sql, f.a.id, (tx) => newOrder(tx, f.a, big)))).toBe('23505');
    const [row] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from orders where workspace_id = ${f.a.id} and shopify_order_id = ${big}`;
    expect(row?.n).toBe(1);
  });

  it('allows the same id in another workspace, and any number of orders without one', async () => {
    const [row] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from orders where shopify_order_id = ${big}`;
    expect(row?.n).toBe(2); // A's and B's fixture orders
    const ws = await db.sql<{ id: string }[]>`
      insert into workspaces (name, slug) values ('C', ${`c-${Date.now()}`}) returning id`;
    const c = ws[0]?.id ?? '';
    const [p] = await db.sql<
      { id: string }[]
    >`insert into pipelines (workspace_id, name) values (${c}, 'P') returning id`;
    const [s] = await db.sql<{ id: string }[]>`
      insert into pipeline_stages (workspace_id, pipeline_id, name, position) values (${c}, ${p?.id ?? ''}, 'S', 0)
      returning id`;
    const third = await db.sql`
      insert into orders (workspace_id, pipeline_id, stage_id, shopify_order_id)
      values (${c}, ${p?.id ?? ''}, ${s?.id ?? ''}, ${big})`;
    expect(third.count).toBe(1);
    await newOrder(db.sql, f.a, null);
    await newOrder(db.sql, f.a, null);
  });

  it('two concurrent inserts of one Shopify order in one workspace: exactly one wins', async () => {
    const id = '9223372036854775807';
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, () => withWorkspace(db.sql, f.b.id, (tx) => newOrder(tx, f.b, id))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as { code?: string }).code).toBe('23505');
    }
  });

  it('refuses anything but digits', async () => {
    expect(await pgErrorCode(newOrder(db.sql, f.a, '6.114532901234568e18'))).toBe('23514');
  });
});
