/**
 * The read and work procedures on real data: contact-review merge (orders move, the duplicate goes,
 * phones stay unique) and ignore; events stats, filters, cursor pages, detail and replay; orders by
 * stage with lines; pipelines; reconcile runs.
 */
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  arrangeWorld,
  codeOf,
  ok,
  type RouterOutputs,
  signedIn,
  type TrpcClient,
  type World,
} from './trpc-support.ts';

let db: TestDatabase;
let world: World;
let agent: TrpcClient;
let owner: TrpcClient;
const ws = () => world.demo.workspaceId;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await arrangeWorld(db);
  agent = await signedIn(world.app, 'agent@demo.test');
  owner = await signedIn(world.app, 'owner@demo.test');
});
afterAll(async () => {
  await world?.app.close();
  await db?.drop();
});

async function contact(fields: {
  name: string;
  phone?: string | null;
  email?: string | null;
  city?: string;
}) {
  const [c] = await db.sql<{ id: string }[]>`
    insert into contacts (workspace_id, name, phone, email, city)
    values (${ws()}, ${fields.name}, ${fields.phone ?? null}, ${fields.email ?? null}, ${fields.city ?? 'Bogota'})
    returning id`;
  if (!c) throw new Error('arrange');
  return c.id;
}

async function order(contactId: string | null, name: string, stage = 0, createdAt?: string) {
  const [o] = await db.sql<{ id: string }[]>`
    insert into orders (workspace_id, contact_id, pipeline_id, stage_id, integration_id, shopify_order_id,
                        shopify_order_name, description, created_at)
    values (${ws()}, ${contactId}, ${world.demo.pipelineId}, ${world.demo.stageIds[stage] ?? null},
            ${world.demo.integrationId}, ${String(9_007_199_254_740_993n + BigInt(Math.floor(Math.random() * 1e9)))},
            ${name}, ${`${name} desc`}, ${createdAt ?? new Date().toISOString()}::text::timestamptz)
    returning id`;
  if (!o) throw new Error('arrange');
  return o.id;
}

async function review(orderId: string | null, contactId: string, candidateId: string) {
  const [r] = await db.sql<{ id: string }[]>`
    insert into contact_reviews (workspace_id, order_id, contact_id, candidate_contact_id, reasons, score)
    values (${ws()}, ${orderId}, ${contactId}, ${candidateId}, ${['name', 'city']}, 0.87) returning id`;
  if (!r) throw new Error('arrange');
  return r.id;
}

describe('contact reviews', () => {
  it('lists pending reviews with both contacts side by side', async () => {
    const existing = await contact({ name: 'Maria Jose Lopez', phone: '+573007654399' });
    const dup = await contact({ name: 'María José López', phone: '+573001234567' });
    const o = await order(dup, '#3001');
    const id = await review(o, dup, existing);
    const list = ok(await agent.api.contactReviews.list.query({ workspaceId: ws() }));
    const r = list.find((x) => x.id === id);
    expect(r).toMatchObject({
      reasons: ['name', 'city'],
      order: { id: o, shopifyOrderName: '#3001' },
      contact: { id: dup, name: 'María José López', phone: '+573001234567', orderCount: 1 },
      candidate: { id: existing, name: 'Maria Jose Lopez', phone: '+573007654399', orderCount: 0 },
    });
  });

  it('merge moves the order to the candidate, takes the phone it lacked, removes the duplicate', async () => {
    const existing = await contact({ name: 'Pedro Gomez', phone: null, email: null });
    const dup = await contact({ name: 'Pedro Gómez', phone: '+573105550001', email: 'pedro@example.com' });
    const o1 = await order(dup, '#3002');
    const o2 = await order(dup, '#3003');
    const id = await review(o1, dup, existing);
    // Another pending review that names the duplicate as the candidate of a third contact.
    const third = await contact({ name: 'Pedro G.', phone: '+573105550009' });
    const other = await review(null, third, dup);

    const r = ok(await agent.api.contactReviews.merge.mutate({ workspaceId: ws(), reviewId: id }));
    expect(r).toEqual({ survivorId: existing, removedContactId: dup, ordersMoved: 2 });

    const orders = await db.sql<
      { contact_id: string }[]
    >`select contact_id from orders where id in (${o1}, ${o2})`;
    expect(orders.map((x) => x.contact_id)).toEqual([existing, existing]);
    expect(await db.sql`select 1 from contacts where id = ${dup}`).toHaveLength(0);
    const [survivor] = await db.sql<{ phone: string; email: string }[]>`
      select phone, email from contacts where id = ${existing}`;
    expect(survivor).toEqual({ phone: '+573105550001', email: 'pedro@example.com' });
    const [dupPhones] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from contacts where workspace_id = ${ws()} and phone = '+573105550001'`;
    expect(dupPhones?.n).toBe(1);
    const [resolved] = await db.sql<{ status: string; resolved_by: string; resolved_at: Date }[]>`
      select status, resolved_by, resolved_at from contact_reviews where id = ${id}`;
    expect(resolved?.status).toBe('merged');
    expect(resolved?.resolved_at).toBeInstanceOf(Date);
    const [agentRow] = await db.sql<{ id: string }[]>`select id from users where email = 'agent@demo.test'`;
    expect(resolved?.resolved_by).toBe(agentRow?.id);
    // The other review now points at the survivor, still pending.
    const [moved] = await db.sql<{ candidate_contact_id: string; status: string }[]>`
      select candidate_contact_id, status from contact_reviews where id = ${other}`;
    expect(moved).toEqual({ candidate_contact_id: existing, status: 'pending' });
  });

  it('merge keeps the survivor phone and files the duplicate phone as secondary', async () => {
    const existing = await contact({ name: 'Laura Ruiz', phone: '+573205550001' });
    const dup = await contact({ name: 'Laura Ruíz', phone: '+573205550002' });
    const o = await order(dup, '#3004');
    const id = await review(o, dup, existing);
    ok(await owner.api.contactReviews.merge.mutate({ workspaceId: ws(), reviewId: id }));
    const [s] = await db.sql<{ phone: string; secondary_phone: string }[]>`
      select phone, secondary_phone from contacts where id = ${existing}`;
    expect(s).toEqual({ phone: '+573205550001', secondary_phone: '+573205550002' });
    // Resolved reviews are not resolved twice.
    const again = await owner.api.contactReviews.merge.mutate({ workspaceId: ws(), reviewId: id });
    expect(codeOf(again)).toBe('CONFLICT');
    const ignore = await owner.api.contactReviews.ignore.mutate({ workspaceId: ws(), reviewId: id });
    expect(codeOf(ignore)).toBe('CONFLICT');
    const merged = ok(await agent.api.contactReviews.list.query({ workspaceId: ws(), status: 'merged' }));
    expect(merged.map((x) => x.id)).toContain(id);
  });

  it('ignore closes the review and leaves both contacts', async () => {
    const a = await contact({ name: 'Carlos Diaz', phone: '+573305550001' });
    const b = await contact({ name: 'Carlos Díaz', phone: '+573305550002' });
    const o = await order(b, '#3005');
    const id = await review(o, b, a);
    expect(ok(await agent.api.contactReviews.ignore.mutate({ workspaceId: ws(), reviewId: id }))).toEqual({
      ok: true,
    });
    expect(await db.sql`select 1 from contacts where id in (${a}, ${b})`).toHaveLength(2);
    const pending = ok(await agent.api.contactReviews.list.query({ workspaceId: ws() }));
    expect(pending.map((x) => x.id)).not.toContain(id);
    expect(
      codeOf(
        await agent.api.contactReviews.ignore.mutate({ workspaceId: ws(), reviewId: crypto.randomUUID() }),
      ),
    ).toBe('NOT_FOUND');
  });
});

type EventPage = RouterOutputs['events']['list'];

describe('events', () => {
  const ids: string[] = [];
  beforeAll(async () => {
    const statuses = ['processed', 'processed', 'failed', 'pending', 'ignored'];
    for (let i = 0; i < 25; i++) {
      const status = statuses[i % statuses.length] ?? 'processed';
      const topic = i % 2 === 0 ? 'orders/create' : 'orders/updated';
      // Some on earlier days, several sharing one received_at (the cursor must not skip or repeat them).
      const receivedAt =
        i < 5 ? "now() - interval '3 days'" : i < 15 ? "date_trunc('second', now())" : 'now()';
      const [e] = await db.sql<{ id: string }[]>`
        insert into webhook_events (workspace_id, integration_id, external_id, topic, shop_domain, payload, status,
                                    last_error, received_at)
        values (${ws()}, ${world.demo.integrationId}, ${`wh-${i}`}, ${topic}, 'demo-store.myshopify.com',
                ${`{"id":${9_007_199_254_740_993n + BigInt(i)}}`}, ${status},
                ${status === 'failed' ? 'The order has no line items.' : null}, ${db.sql.unsafe(receivedAt)})
        returning id`;
      if (!e) throw new Error('arrange');
      ids.push(e.id);
    }
    await db.sql`update integrations set last_sync_at = now() where id = ${world.demo.integrationId}`;
  });

  it('counts today and overall by status, with the last sync', async () => {
    const s = ok(await agent.api.events.stats.query({ workspaceId: ws() }));
    expect(s.overall).toEqual({ received: 25, processed: 10, failed: 5, pending: 5, ignored: 5 });
    expect(s.today.received).toBe(20);
    expect(s.today.processed + s.today.failed + s.today.pending + s.today.ignored).toBe(20);
    expect(s.lastSyncAt).not.toBeNull();
  });

  it('pages through every event exactly once, newest first', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const p: EventPage = ok(await agent.api.events.list.query({ workspaceId: ws(), limit: 7, cursor }));
      seen.push(...p.items.map((e) => e.id));
      cursor = p.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
    expect([...seen].sort()).toEqual([...ids].sort());
  });

  it('filters by status, topic and date range', async () => {
    const failed = ok(await agent.api.events.list.query({ workspaceId: ws(), status: 'failed', limit: 100 }));
    expect(failed.items).toHaveLength(5);
    expect(failed.items.every((e) => e.status === 'failed')).toBe(true);
    const upd = ok(
      await agent.api.events.list.query({ workspaceId: ws(), topic: 'orders/updated', limit: 100 }),
    );
    expect(upd.items).toHaveLength(12);
    expect(upd.topics).toEqual(['orders/create', 'orders/updated']);
    const old = ok(
      await agent.api.events.list.query({
        workspaceId: ws(),
        to: new Date(Date.now() - 86_400_000).toISOString(),
        limit: 100,
      }),
    );
    expect(old.items).toHaveLength(5);
    const recent = ok(
      await agent.api.events.list.query({
        workspaceId: ws(),
        from: new Date(Date.now() - 86_400_000).toISOString(),
        status: 'processed',
        limit: 100,
      }),
    );
    expect(recent.items).toHaveLength(8);
    expect(codeOf(await agent.call('query', 'events.list', { workspaceId: ws(), status: 'exploded' }))).toBe(
      'BAD_REQUEST',
    );
    expect(codeOf(await agent.api.events.list.query({ workspaceId: ws(), cursor: 'bm9wZQ' }))).toBe(
      'BAD_REQUEST',
    );
  });

  it('shows an event with its raw payload (every digit of big ids) and error', async () => {
    const id = ids[2] ?? '';
    const d = ok(
      await agent.api.events.detail.query({
        workspaceId: ws(),
        eventId: id,
      }),
    );
    expect(d.payload).toBe('{"id":9007199254740995}');
    expect(d).toMatchObject({ status: 'failed', lastError: 'The order has no line items.' });
    expect(
      codeOf(await agent.api.events.detail.query({ workspaceId: ws(), eventId: crypto.randomUUID() })),
    ).toBe('NOT_FOUND');
  });

  it('the owner replays one failed event and all failed events', async () => {
    const id = ids[7] ?? '';
    const r = await owner.api.events.replay.mutate({ workspaceId: ws(), eventId: id });
    expect(codeOf(r)).toBe('OK');
    const [e] = await db.sql<{ status: string }[]>`select status from webhook_events where id = ${id}`;
    expect(e?.status).toBe('pending');
    const all = ok(await owner.api.events.replayAllFailed.mutate({ workspaceId: ws() }));
    expect(all.count).toBe(4);
    const [left] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from webhook_events where workspace_id = ${ws()} and status = 'failed'`;
    expect(left?.n).toBe(0);
    expect(
      codeOf(await owner.api.events.replay.mutate({ workspaceId: ws(), eventId: crypto.randomUUID() })),
    ).toBe('NOT_FOUND');
  });
});

type OrderPage = RouterOutputs['orders']['list'];

describe('orders and pipelines', () => {
  it('lists pipelines with their stages in order', async () => {
    const p = ok(
      await agent.api.pipelines.list.query({
        workspaceId: ws(),
      }),
    );
    expect(p[0]?.name).toBe('Ventas Shopify');
    expect(p[0]?.stages.map((s) => s.name)).toEqual([
      'Nuevo',
      'Confirmado',
      'Enviado',
      'Entregado',
      'Cancelado',
    ]);
    expect(p[0]?.stages[4]?.isCancelled).toBe(true);
  });

  it('lists orders by stage with their lines, Shopify reference and exact totals', async () => {
    const [product] = await db.sql<{ id: string }[]>`
      select id from products where workspace_id = ${ws()} and sku = 'SRM-VITC-30'`;
    const o = await order(null, '#4001', 2);
    await db.sql`
      insert into order_products (workspace_id, order_id, product_id, shopify_line_id, sku, title, unit_price,
                                  quantity, subtotal)
      values (${ws()}, ${o}, ${product?.id ?? null}, '9007199254740999', 'SRM-VITC-30', 'Sérum', 59950.10, 3, 179850.30),
             (${ws()}, ${o}, null, '9007199254741000', 'SHOPIFY-9007199254741000', 'Gift wrap', 0.10, 1, 0.10)`;
    const stage = world.demo.stageIds[2] ?? '';
    const page = ok(await agent.api.orders.list.query({ workspaceId: ws(), stageId: stage }));
    const found = page.items.find((x) => x.id === o);
    expect(page.items.every((x) => x.stageId === stage)).toBe(true);
    expect(found?.stageName).toBe('Enviado');
    expect(found?.totalValue).toBe('179850.40');
    expect(found?.shopifyOrderId).toMatch(/^\d{16}$/);
    expect(found?.lines).toEqual([
      expect.objectContaining({
        sku: 'SRM-VITC-30',
        unitPrice: '59950.10',
        quantity: 3,
        subtotal: '179850.30',
        matched: true,
      }),
      expect.objectContaining({ sku: 'SHOPIFY-9007199254741000', unitPrice: '0.10', matched: false }),
    ]);
    const other = ok(
      await agent.api.orders.list.query({
        workspaceId: ws(),
        stageId: world.demo.stageIds[3] ?? '',
      }),
    );
    expect(other.items.map((x) => x.id)).not.toContain(o);
  });

  it('pages through orders with a cursor', async () => {
    // Within one millisecond, apart by microseconds (a cursor through a JS Date would skip some), and two equal.
    for (let i = 0; i < 6; i++) await order(null, `#50${i}`, 1, `2026-01-01T00:00:00.0001${Math.min(i, 4)}Z`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const p: OrderPage = ok(
        await agent.api.orders.list.query({
          workspaceId: ws(),
          stageId: world.demo.stageIds[1] ?? '',
          limit: 4,
          cursor,
        }),
      );
      seen.push(...p.items.map((x) => x.id));
      cursor = p.nextCursor;
    } while (cursor);
    expect(seen.length).toBe(6);
    expect(new Set(seen).size).toBe(6);
  });
});

describe('reconcile runs', () => {
  it('shows the progress of a run and the recent runs', async () => {
    const [run] = await db.sql<{ id: string }[]>`
      insert into reconcile_runs (workspace_id, integration_id, since, status, pages, orders_seen, orders_created,
                                  started_at)
      values (${ws()}, ${world.demo.integrationId}, now() - interval '7 days', 'running', 3, 120, 4, now())
      returning id`;
    if (!run) throw new Error('arrange');
    const s = ok(await agent.api.reconcile.status.query({ workspaceId: ws(), runId: run.id }));
    expect(s).toMatchObject({ id: run?.id, status: 'running', pages: 3, ordersSeen: 120, done: false });
    const list = ok(await agent.api.reconcile.list.query({ workspaceId: ws() }));
    expect(list.map((r) => r.id)).toContain(run?.id);
    expect(
      codeOf(await agent.api.reconcile.status.query({ workspaceId: ws(), runId: crypto.randomUUID() })),
    ).toBe('NOT_FOUND');
  });

  it('the owner starts a run; a date in the future is refused', async () => {
    await db.sql`update reconcile_runs set status = 'succeeded' where workspace_id = ${ws()}`;
    const future = await owner.api.reconcile.start.mutate({
      workspaceId: ws(),
      since: new Date(Date.now() + 86_400_000).toISOString(),
    });
    expect(codeOf(future)).toBe('BAD_REQUEST');
    const r = ok(await owner.api.reconcile.start.mutate({ workspaceId: ws(), since: '2026-01-01' }));
    const s = ok(await owner.api.reconcile.status.query({ workspaceId: ws(), runId: r.runId }));
    expect(s.status).toBe('queued');
  });
});
