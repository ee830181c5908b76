/**
 * Processing stored webhook events in the job queue, per topic, on a real PostgreSQL: deliveries go
 * through the real HTTP route, then the due events run (the webhook event queue's workers, in this process).
 */
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayEvent, replayFailedEvents } from '../src/jobs/replay.ts';
import { startTestApp, type TestApp } from '../src/testing/index.ts';
import { createShop, deliver, orderPayload, type Shop } from './webhook-support.ts';

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

type EventRow = {
  id: string;
  status: string;
  attempts: number;
  last_error: string | null;
  processed_at: Date | null;
  order_id: string | null;
  shopify_order_id: string | null;
  payload: string;
};

async function send(
  shop: Shop,
  body: string,
  topic = 'orders/create',
  webhookId?: string,
): Promise<EventRow> {
  const id = webhookId ?? `wh-${Math.random().toString(36).slice(2)}`;
  const res = await deliver(app.url, {
    body,
    topic,
    shopDomain: shop.shopDomain,
    secret: shop.secret,
    webhookId: id,
  });
  expect(res.status).toBe(200);
  await app.runJobs();
  return event(id);
}

async function event(externalId: string): Promise<EventRow> {
  const [row] = await db.sql<EventRow[]>`select * from webhook_events where external_id = ${externalId}`;
  if (!row) throw new Error(`no event ${externalId}`);
  return row;
}

type OrderRow = {
  id: string;
  contact_id: string | null;
  stage_id: string;
  pipeline_id: string;
  total_value: string;
  financial_status: string | null;
  cancelled_at: Date | null;
  shopify_order_id: string;
  shopify_order_name: string;
  description: string;
  shipping_address: string | null;
  shipping_city: string | null;
  shipping_department: string | null;
};

async function ordersOf(shop: Shop): Promise<OrderRow[]> {
  return db.sql<
    OrderRow[]
  >`select * from orders where workspace_id = ${shop.workspaceId} order by created_at`;
}

async function contactsOf(shop: Shop) {
  return db.sql<
    {
      id: string;
      name: string;
      phone: string | null;
      secondary_phone: string | null;
      email: string | null;
      city: string | null;
      department: string | null;
      address: string | null;
      shopify_customer_id: string | null;
    }[]
  >`select * from contacts where workspace_id = ${shop.workspaceId} order by created_at`;
}

describe('orders/create', () => {
  it('creates the order with its contact, lines and stage, exactly as Shopify sent it', async () => {
    const shop = await createShop(db);
    const order = orderPayload();
    const ev = await send(shop, order.text);
    expect(ev).toMatchObject({
      status: 'processed',
      attempts: 1,
      last_error: null,
      shopify_order_id: order.id,
    });
    expect(ev.processed_at).toBeInstanceOf(Date);

    const [o] = await ordersOf(shop);
    expect(o).toMatchObject({
      shopify_order_id: order.id,
      shopify_order_name: '#2043',
      stage_id: shop.stages.first,
      pipeline_id: shop.pipelineId,
      financial_status: 'pending',
      total_value: '149900.00',
      shipping_address: 'Calle 63 # 9-45, Apto 502',
      shipping_city: 'Bogotá',
      shipping_department: 'Bogotá, D.C.',
    });
    expect(o?.description).toContain('#2043');
    expect(o?.description).toContain('Entregar en portería');
    expect(ev.order_id).toBe(o?.id);

    const lines = await db.sql<
      {
        product_id: string | null;
        sku: string;
        unit_price: string;
        quantity: number;
        subtotal: string;
        shopify_line_id: string;
      }[]
    >`select * from order_products where order_id = ${o?.id ?? null} order by created_at, sku desc`;
    const [product] = await db.sql<{ id: string }[]>`
      select id from products where workspace_id = ${shop.workspaceId} and sku = 'SRM-VITC-30'`;
    expect(lines).toHaveLength(2);
    const matched = lines.find((l) => l.product_id !== null);
    const unmatched = lines.find((l) => l.product_id === null);
    expect(matched).toMatchObject({
      product_id: product?.id,
      sku: 'SRM-VITC-30',
      quantity: 2,
      unit_price: '54497.00',
      subtotal: '108994.00',
    });
    expect(unmatched).toMatchObject({ sku: `SHOPIFY-${unmatched?.shopify_line_id}`, subtotal: '40906.00' });
    expect(unmatched?.shopify_line_id).toMatch(/^\d{17}$/);

    const contacts = await contactsOf(shop);
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({
      name: 'María José López Gutiérrez',
      phone: '+573001234567',
      secondary_phone: '+573115550142',
      email: 'maria.lopez@example.com',
      city: 'Bogotá',
      department: 'Bogotá, D.C.',
      shopify_customer_id: '7294810023456789012',
    });
    expect(o?.contact_id).toBe(contacts[0]?.id);

    const [integration] = await db.sql<{ last_sync_at: Date | null }[]>`
      select last_sync_at from integrations where id = ${shop.integrationId}`;
    expect(integration?.last_sync_at).toBeInstanceOf(Date);
  });

  it('last sync follows processed orders to the second', async () => {
    const shop = await createShop(db);
    const lastSync = async () => {
      const [row] = await db.sql<{ last_sync_at: Date | null }[]>`
        select last_sync_at from integrations where id = ${shop.integrationId}`;
      return row?.last_sync_at?.getTime() ?? null;
    };
    expect(await lastSync()).toBeNull();
    expect((await send(shop, orderPayload().text)).status).toBe('processed');
    const first = await lastSync();
    expect(first).not.toBeNull();
    // Kept to the second (the worker does not even send the statement within it): a processed order
    // after that second marks it again.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await send(shop, orderPayload().text)).status).toBe('processed');
    expect(await lastSync()).toBeGreaterThanOrEqual((first ?? 0) + 1000);
  });

  it('a second orders/create of the same order (new webhook id) ends processed, still one order', async () => {
    const shop = await createShop(db);
    const order = orderPayload();
    await send(shop, order.text);
    const again = await send(shop, order.text);
    expect(again.status).toBe('processed');
    expect(await ordersOf(shop)).toHaveLength(1);
  });

  it('links an existing contact by phone (E.164), completing what it lacks', async () => {
    const shop = await createShop(db);
    const [existing] = await db.sql<{ id: string }[]>`
      insert into contacts (workspace_id, name, phone) values (${shop.workspaceId}, 'MJ', '+573001234567') returning id`;
    await send(shop, orderPayload().text);
    const contacts = await contactsOf(shop);
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({ id: existing?.id, name: 'MJ', email: 'maria.lopez@example.com' });
    expect((await ordersOf(shop))[0]?.contact_id).toBe(existing?.id);
  });

  it('links an existing contact by email, case-insensitively, when the phone is new', async () => {
    const shop = await createShop(db);
    const [existing] = await db.sql<{ id: string }[]>`
      insert into contacts (workspace_id, name, phone, email)
      values (${shop.workspaceId}, 'Maria', '+573209998877', 'Maria.Lopez@Example.com') returning id`;
    await send(shop, orderPayload().text);
    expect(await contactsOf(shop)).toHaveLength(1);
    expect((await ordersOf(shop))[0]?.contact_id).toBe(existing?.id);
  });

  it('a fuzzy name + city match creates a review and a new contact — never a silent link', async () => {
    const shop = await createShop(db);
    const [lookalike] = await db.sql<{ id: string }[]>`
      insert into contacts (workspace_id, name, phone, city, department)
      values (${shop.workspaceId}, 'Maria Jose Lopez Gutierrez', '+573007654321', 'Bogota', 'Bogotá, D.C.')
      returning id`;
    await send(shop, orderPayload().text);
    const contacts = await contactsOf(shop);
    expect(contacts).toHaveLength(2);
    const created = contacts.find((c) => c.id !== lookalike?.id);
    const [o] = await ordersOf(shop);
    expect(o?.contact_id).toBe(created?.id);
    expect(o?.contact_id).not.toBe(lookalike?.id);
    const reviews = await db.sql<
      {
        order_id: string;
        contact_id: string;
        candidate_contact_id: string;
        status: string;
        reasons: string[];
        score: string;
      }[]
    >`select * from contact_reviews where workspace_id = ${shop.workspaceId}`;
    expect(reviews).toHaveLength(1);
    expect(reviews[0]).toMatchObject({
      order_id: o?.id,
      contact_id: created?.id,
      candidate_contact_id: lookalike?.id,
      status: 'pending',
    });
    expect(reviews[0]?.reasons).toContain('same city');
    expect(Number(reviews[0]?.score)).toBeGreaterThanOrEqual(0.6);
  });

  it('with fuzzy matching off, no review', async () => {
    const shop = await createShop(db, { config: { fuzzyMatching: false } });
    await db.sql`
      insert into contacts (workspace_id, name, phone, city)
      values (${shop.workspaceId}, 'Maria Jose Lopez Gutierrez', '+573007654321', 'Bogota')`;
    await send(shop, orderPayload().text);
    expect(await contactsOf(shop)).toHaveLength(2);
    expect(await db.sql`select 1 from contact_reviews where workspace_id = ${shop.workspaceId}`).toHaveLength(
      0,
    );
  });

  it('with automatic creation off, the event is processed and no order is created', async () => {
    const shop = await createShop(db, { config: { autoCreateOrders: false } });
    const ev = await send(shop, orderPayload().text);
    expect(ev.status).toBe('processed');
    expect(await ordersOf(shop)).toHaveLength(0);
    expect(await contactsOf(shop)).toHaveLength(0);
  });

  it('lands in the configured stage when one is set', async () => {
    const shop = await createShop(db);
    await db.sql`
      update integrations set config = config || ${db.sql.json({ stageId: shop.stages.second })}
      where id = ${shop.integrationId}`;
    await send(shop, orderPayload().text);
    expect((await ordersOf(shop))[0]?.stage_id).toBe(shop.stages.second);
  });

  it('fails at once, in words an owner understands, when the pipeline is gone', async () => {
    const shop = await createShop(db);
    await db.sql`
      update integrations set config = config || ${db.sql.json({ pipelineId: '00000000-0000-4000-8000-000000000000' })}
      where id = ${shop.integrationId}`;
    const ev = await send(shop, orderPayload().text);
    expect(ev).toMatchObject({
      status: 'failed',
      attempts: 1,
      last_error:
        'The pipeline chosen for Shopify orders no longer exists: choose another on the integration page, then replay.',
    });
  });

  it('fails with a clear message for a line with quantity 0', async () => {
    const shop = await createShop(db);
    const ev = await send(
      shop,
      orderPayload({ lines: [{ sku: 'SRM-VITC-30', title: 'Sérum', price: '10.00', quantity: 0 }] }).text,
    );
    expect(ev.status).toBe('failed');
    expect(ev.last_error).toMatch(
      /^The order has a line whose quantity is 0, negative or not a whole number/,
    );
    expect(await ordersOf(shop)).toHaveLength(0);
  });
});

describe('orders/updated, paid, cancelled', () => {
  it('applies a newer update and ignores an older one', async () => {
    const shop = await createShop(db);
    const order = orderPayload({ updatedAt: '2026-02-04T15:57:03-05:00' });
    await send(shop, order.text);
    const paid = orderPayload({
      id: order.id,
      updatedAt: '2026-02-05T10:00:00-05:00',
      financialStatus: 'paid',
    });
    expect((await send(shop, paid.text, 'orders/paid')).status).toBe('processed');
    expect((await ordersOf(shop))[0]?.financial_status).toBe('paid');

    // An update older than the one applied (Shopify does not guarantee order) changes nothing.
    const older = orderPayload({
      id: order.id,
      updatedAt: '2026-02-04T18:00:00-05:00',
      financialStatus: 'pending',
      city: 'Medellín',
    });
    const ev = await send(shop, older.text, 'orders/updated');
    expect(ev.status).toBe('processed');
    const [o] = await ordersOf(shop);
    expect(o).toMatchObject({ financial_status: 'paid', shipping_city: 'Bogotá' });
    expect(await ordersOf(shop)).toHaveLength(1);
  });

  it('a cancelled order moves to the cancelled stage', async () => {
    const shop = await createShop(db);
    const order = orderPayload();
    await send(shop, order.text);
    const cancelled = orderPayload({
      id: order.id,
      updatedAt: '2026-02-06T09:00:00-05:00',
      cancelledAt: '2026-02-06T09:00:00-05:00',
      financialStatus: 'voided',
    });
    await send(shop, cancelled.text, 'orders/cancelled');
    const [o] = await ordersOf(shop);
    expect(o).toMatchObject({ stage_id: shop.stages.cancelled, financial_status: 'voided' });
    expect(o?.cancelled_at?.toISOString()).toBe('2026-02-06T14:00:00.000Z');
  });

  it('an update of an order never created creates it (missed orders/create)', async () => {
    const shop = await createShop(db);
    const order = orderPayload({ financialStatus: 'paid' });
    const ev = await send(shop, order.text, 'orders/updated');
    expect(ev.status).toBe('processed');
    const [o] = await ordersOf(shop);
    expect(o).toMatchObject({
      shopify_order_id: order.id,
      financial_status: 'paid',
      total_value: '149900.00',
    });
  });
});

describe('other topics', () => {
  it('app/uninstalled disables the integration', async () => {
    const shop = await createShop(db);
    const ev = await send(
      shop,
      JSON.stringify({ id: 1, myshopify_domain: shop.shopDomain }),
      'app/uninstalled',
    );
    expect(ev.status).toBe('processed');
    const [row] = await db.sql<
      { is_active: boolean }[]
    >`select is_active from integrations where id = ${shop.integrationId}`;
    expect(row?.is_active).toBe(false);
  });

  it("customers/redact redacts that customer's personal data from stored payloads, and only theirs", async () => {
    const shop = await createShop(db);
    const hers = orderPayload();
    const his = orderPayload({
      email: 'bob@example.com',
      firstName: 'Bob',
      lastName: 'Norman',
      phone: '+1 613 555 0100',
      customerId: '115310627314723954',
    });
    const herEvent = await send(shop, hers.text);
    const hisEvent = await send(shop, his.text);
    const request = `{"shop_id": 954889, "shop_domain": "${shop.shopDomain}", "customer": {"id": 7294810023456789012, "email": "maria.lopez@example.com", "phone": "3001234567"}, "orders_to_redact": [${hers.id}]}`;
    const ev = await send(shop, request, 'customers/redact');
    expect(ev.status).toBe('processed');

    const redacted = (await event(await externalIdOf(herEvent.id))).payload;
    expect(redacted).not.toContain('maria.lopez@example.com');
    expect(redacted).not.toContain('López');
    expect(redacted).not.toContain('Calle 63');
    expect(redacted).toContain(hers.id); // ids stay, every digit
    expect((await event(await externalIdOf(hisEvent.id))).payload).toBe(his.text);
    // The CRM order stays.
    expect(await ordersOf(shop)).toHaveLength(2);
  });

  it('shop/redact redacts every stored payload of the integration; customers/data_request is recorded', async () => {
    const shop = await createShop(db);
    const one = await send(shop, orderPayload().text);
    const dataRequest = await send(
      shop,
      JSON.stringify({
        shop_id: 1,
        shop_domain: shop.shopDomain,
        customer: { id: 5, email: 'x@example.com' },
      }),
      'customers/data_request',
    );
    expect(dataRequest.status).toBe('processed');
    const ev = await send(shop, JSON.stringify({ shop_id: 1, shop_domain: shop.shopDomain }), 'shop/redact');
    expect(ev.status).toBe('processed');
    expect((await event(await externalIdOf(one.id))).payload).not.toContain('maria.lopez@example.com');
  });

  it('a topic the app does not use is ignored', async () => {
    const shop = await createShop(db);
    const ev = await send(shop, orderPayload().text, 'orders/fulfilled');
    expect(ev.status).toBe('ignored');
    expect(await ordersOf(shop)).toHaveLength(0);
  });

  it('an unreadable order payload fails at once with what is wrong', async () => {
    const shop = await createShop(db);
    const ev = await send(shop, JSON.stringify({ id: 'abc', line_items: [] }), 'orders/create');
    expect(ev.status).toBe('failed');
    expect(ev.last_error).toMatch(/^Shopify sent data this app cannot read: id/);
  });
});

async function externalIdOf(id: string): Promise<string> {
  const [row] = await db.sql<
    { external_id: string }[]
  >`select external_id from webhook_events where id = ${id}`;
  return row?.external_id ?? '';
}

describe('retries, failure and replay', () => {
  it('retries with backoff, fails on the last attempt with a readable error, and replays once fixed', async () => {
    const shop = await createShop(db);
    const order = orderPayload();
    await db.sql`revoke insert on order_products from app_worker`;
    try {
      const first = await send(shop, order.text, 'orders/create', 'retry-me');
      // Attempt 1 failed: still pending, error kept, no lease, due again after a backoff (e^1 s).
      expect(first).toMatchObject({ status: 'pending', attempts: 1 });
      expect(first.last_error).toMatch(/^Unexpected error while processing the event: permission denied/);
      const [queued] = await db.sql<{ locked_by: string | null; run_at: Date }[]>`
        select locked_by, run_at from webhook_events where id = ${first.id}`;
      expect(queued?.locked_by).toBeNull();
      expect(queued?.run_at.getTime()).toBeGreaterThan(Date.now() + 1000);
      await app.runJobs(); // not due yet: nothing happens
      expect(await event('retry-me')).toMatchObject({ status: 'pending', attempts: 1 });
      expect(await ordersOf(shop)).toHaveLength(0);

      // Fast-forward to the 7th attempt: due now, it fails and waits e^7 s for the 8th.
      await db.sql`update webhook_events set run_at = now(), attempts = 6 where id = ${first.id}`;
      await app.runJobs();
      const seventh = await event('retry-me');
      expect(seventh).toMatchObject({ status: 'pending', attempts: 7 });
      const [waiting] = await db.sql<{ seconds: number }[]>`
        select extract(epoch from run_at - now())::float8 as seconds from webhook_events where id = ${first.id}`;
      expect(waiting?.seconds).toBeGreaterThan(900);
      // The 8th and last attempt ends it failed, out of the queue.
      await db.sql`update webhook_events set run_at = now() where id = ${first.id}`;
      await app.runJobs();
      const last = await event('retry-me');
      expect(last).toMatchObject({ status: 'failed', attempts: 8 });
      expect(last.last_error).toMatch(/permission denied/);
      expect(last.last_error).not.toMatch(/\n\s+at /);
    } finally {
      await db.sql`grant insert on order_products to app_worker`;
    }

    await replayEvent(app.deps, { workspaceId: shop.workspaceId, eventId: (await event('retry-me')).id });
    await app.runJobs();
    // A replay starts a fresh count of attempts.
    expect(await event('retry-me')).toMatchObject({ status: 'processed', last_error: null, attempts: 1 });
    expect(await ordersOf(shop)).toHaveLength(1);
  });

  it('replays every failed event of a workspace, and only that workspace', async () => {
    const shop = await createShop(db);
    const other = await createShop(db);
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const s of [shop, other]) {
      await db.sql`update integrations set config = config || ${db.sql.json({ pipelineId: missing })} where id = ${s.integrationId}`;
    }
    await send(shop, orderPayload().text);
    await send(shop, orderPayload().text);
    await send(other, orderPayload().text);
    for (const s of [shop, other]) {
      await db.sql`update integrations set config = config || ${db.sql.json({ pipelineId: s.pipelineId })} where id = ${s.integrationId}`;
    }
    expect(await replayFailedEvents(app.deps, { workspaceId: shop.workspaceId })).toBe(2);
    await app.runJobs();
    expect(await ordersOf(shop)).toHaveLength(2);
    expect(await ordersOf(other)).toHaveLength(0);
    const [failed] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from webhook_events where workspace_id = ${other.workspaceId} and status = 'failed'`;
    expect(failed?.n).toBe(1);
  });

  it('replaying an event of another workspace finds nothing', async () => {
    const shop = await createShop(db);
    const other = await createShop(db);
    const ev = await send(shop, orderPayload().text);
    await expect(replayEvent(app.deps, { workspaceId: other.workspaceId, eventId: ev.id })).rejects.toThrow(
      'No such webhook event',
    );
  });
});
