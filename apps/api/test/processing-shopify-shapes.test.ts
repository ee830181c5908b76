/**
 * Orders as Shopify really sends them (issue #21, and #22 items 4–5 for webhook payloads), end to end
 * on a real PostgreSQL: deliveries through the HTTP route, jobs run, rows read back. The payloads are
 * packages/shopify's fixtures (refunds, an unallocated order-level discount, an AUD shop paid in USD,
 * a test order) and hostile variants of webhook-support's COD order.
 */
import { readFileSync } from 'node:fs';
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../src/testing/index.ts';
import { bigOrderId, createShop, deliver, orderPayload, type Shop } from './webhook-support.ts';

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

const fixture = (name: string) =>
  readFileSync(new URL(`../../../packages/shopify/test/fixtures/${name}`, import.meta.url), 'utf8');

type EventRow = { status: string; last_error: string | null; note: string | null; order_id: string | null };

async function send(shop: Shop, body: string, topic = 'orders/create'): Promise<EventRow> {
  const webhookId = `wh-${Math.random().toString(36).slice(2)}`;
  const res = await deliver(app.url, {
    body,
    topic,
    shopDomain: shop.shopDomain,
    secret: shop.secret,
    webhookId,
  });
  expect(res.status).toBe(200);
  await app.runJobs();
  const [row] = await db.sql<EventRow[]>`
    select status, last_error, note, order_id from webhook_events where external_id = ${webhookId}`;
  if (!row) throw new Error('event not stored');
  return row;
}

async function orderOf(shop: Shop) {
  const [order] = await db.sql<
    {
      id: string;
      total_value: string;
      original_total: string | null;
      currency: string | null;
      presentment_currency: string | null;
      presentment_total: string | null;
      tags: string[];
      is_test: boolean;
      stage_id: string;
      description: string;
      contact_id: string | null;
      lines_sum: string;
    }[]
  >`
    select o.*, (select coalesce(sum(subtotal), 0)::numeric(12, 2)::text from order_products p
                 where p.order_id = o.id) as lines_sum
    from orders o where o.workspace_id = ${shop.workspaceId}`;
  if (!order) throw new Error('no order');
  const lines = await db.sql<
    {
      sku: string;
      quantity: number;
      subtotal: string;
      original_quantity: number;
      original_subtotal: string;
    }[]
  >`
    select sku, quantity, subtotal::text, original_quantity, original_subtotal::text
    from order_products where order_id = ${order.id} order by shopify_line_id`;
  const [contact] = await db.sql<
    { name: string; phone: string | null; email: string; secondary_email: string | null }[]
  >`
    select name, phone, email, secondary_email from contacts where id = ${order.contact_id}`;
  return { order, lines, contact };
}

/** The partial-refund fixture as it was before the refund: paid, every unit still there. */
function beforeRefund(): string {
  const order = JSON.parse(fixture('orders-updated.partial-refund-us.json'));
  order.financial_status = 'paid';
  order.updated_at = '2026-03-02T10:15:05-05:00';
  order.refunds = [];
  order.current_subtotal_price = '115.00';
  order.current_total_price = '120.00';
  for (const line of order.line_items) line.current_quantity = line.quantity;
  // JSON.parse rounded the id (above 2^53): its admin_graphql_api_id keeps every digit.
  return JSON.stringify(order);
}

describe('refunds', () => {
  it('an update with a partial refund, then a full one, brings the order to Shopify current values', async () => {
    const shop = await createShop(db); // default phone country CO
    expect(await send(shop, beforeRefund())).toMatchObject({ status: 'processed', note: null });
    let { order, lines, contact } = await orderOf(shop);
    expect(order).toMatchObject({ total_value: '115.00', original_total: '115.00', currency: 'USD' });
    // "(312) 345-6789" in a Chicago address is a US number, not a Colombian one.
    expect(contact?.phone).toBe('+13123456789');

    expect(
      await send(shop, fixture('orders-updated.partial-refund-us.json'), 'orders/updated'),
    ).toMatchObject({
      status: 'processed',
      note: null,
    });
    ({ order, lines } = await orderOf(shop));
    expect(order).toMatchObject({ total_value: '47.50', original_total: '115.00' });
    expect(order.lines_sum).toBe(order.total_value);
    expect(lines).toEqual([
      { sku: 'TEE-BLK-M', quantity: 1, subtotal: '22.50', original_quantity: 4, original_subtotal: '90.00' },
      { sku: 'MUG-01', quantity: 2, subtotal: '25.00', original_quantity: 2, original_subtotal: '25.00' },
    ]);

    await send(shop, fixture('orders-updated.full-refund-us.json'), 'orders/cancelled');
    ({ order, lines } = await orderOf(shop));
    expect(order).toMatchObject({
      total_value: '0.00',
      original_total: '115.00',
      stage_id: shop.stages.cancelled,
    });
    expect(lines.map((l) => [l.quantity, l.subtotal, l.original_quantity])).toEqual([
      [0, '0.00', 4],
      [0, '0.00', 2],
    ]);

    // The partial refund again, older than what was applied: visible as such on its event.
    const stale = await send(shop, fixture('orders-updated.partial-refund-us.json'), 'orders/updated');
    expect(stale.note).toMatch(/newer version of this order was applied already/);
    expect((await orderOf(shop)).order.total_value).toBe('0.00');
  });

  it('an order first seen fully refunded is created with 0 due', async () => {
    const shop = await createShop(db);
    expect(await send(shop, fixture('orders-updated.full-refund-us.json'), 'orders/updated')).toMatchObject({
      status: 'processed',
    });
    const { order, lines } = await orderOf(shop);
    expect(order).toMatchObject({ total_value: '0.00', original_total: '115.00' });
    expect(lines.map((l) => l.quantity)).toEqual([0, 0]);
  });
});

describe('discounts, currencies, test orders', () => {
  it('an AUD test order paid in USD with an unallocated discount: total paid, currencies, tags, emails', async () => {
    const shop = await createShop(db);
    const ev = await send(shop, fixture('orders-create.order-discount-aud.json'));
    expect(ev).toMatchObject({ status: 'processed', last_error: null });
    const { order, lines, contact } = await orderOf(shop);
    expect(order).toMatchObject({
      total_value: '60.00', // 80.00 of goods − 20.00 order-level discount
      original_total: '60.00',
      currency: 'AUD',
      presentment_currency: 'USD',
      presentment_total: '39.33', // the 60.00 AUD of goods at the order's rate (69.95 AUD = 45.85 USD)
      tags: ['wholesale', 'vip'],
      is_test: true,
    });
    expect(order.lines_sum).toBe('60.00');
    expect(lines.map((l) => [l.sku, l.subtotal])).toEqual([
      ['BEANS-1KG', '37.50'],
      ['SHOPIFY-31002', '22.50'],
    ]);
    expect(contact).toMatchObject({
      email: 'orders@harbourcafe.example',
      secondary_email: 'jane.doe@personal.example',
      phone: '+61412345678',
    });
  });

  it('a second orders/create of the same order says on its event that it changed nothing', async () => {
    const shop = await createShop(db);
    const body = fixture('orders-create.order-discount-aud.json');
    await send(shop, body);
    const again = await send(shop, body);
    expect(again.status).toBe('processed');
    expect(again.note).toMatch(/imported already/);
  });
});

describe('hostile payloads (issue #22 items 4 and 5)', () => {
  it('a NUL character in customer text is taken out and the order is stored', async () => {
    const shop = await createShop(db);
    const order = orderPayload({
      firstName: 'Ana\u0000',
      address1: 'Calle 1\u0000 # 2-3',
      note: 'Llamar\u0000 antes',
      noteAttributes: [{ name: 'Barrio\u0000', value: 'Centro\u0000' }],
    });
    expect(order.text).toContain('\\u0000');
    const ev = await send(shop, order.text);
    expect(ev).toMatchObject({ status: 'processed', last_error: null });
    const { order: stored, contact } = await orderOf(shop);
    expect(contact?.name).toBe('Ana López Gutiérrez');
    expect(stored.description).toContain('Nota: Llamar antes');
    expect(stored.description).toContain('Barrio: Centro');
  });

  it('a negative price ends the event failed, in words an owner understands, with nothing written', async () => {
    const shop = await createShop(db);
    const order = orderPayload({
      lines: [{ sku: 'X', title: 'Sérum', price: '-59950.00', quantity: 1 }],
    });
    const ev = await send(shop, order.text);
    expect(ev.status).toBe('failed');
    expect(ev.last_error).toMatch(/^The order has a line with a negative or unreadable price \(line 1: /);
    expect(ev.last_error).toContain('-59950.00');
    const [{ n } = { n: -1 }] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from orders where workspace_id = ${shop.workspaceId}`;
    expect(n).toBe(0);
  });

  it('a negative quantity ends the event failed, naming the line', async () => {
    const shop = await createShop(db);
    const order = orderPayload({ lines: [{ sku: 'X', title: 'Sérum', price: '10.00', quantity: -2 }] });
    const ev = await send(shop, order.text);
    expect(ev.status).toBe('failed');
    expect(ev.last_error).toBe(
      'The order has a line whose quantity is 0, negative or not a whole number (line 1), so it cannot be imported.',
    );
  });

  it('a price that is not a number fails the same way, never as 0.00', async () => {
    const shop = await createShop(db);
    const order = orderPayload({ lines: [{ sku: 'X', title: 'Sérum', price: 'gratis', quantity: 1 }] });
    const ev = await send(shop, order.text);
    expect(ev.status).toBe('failed');
    expect(ev.last_error).toMatch(/negative or unreadable price \(line 1/);
  });
});

/**
 * The tables (all schemas but the system ones) with a row whose text contains one of the values: the
 * shop's workspace's rows where the table has a workspace_id (other tests' shops share the database),
 * every row elsewhere.
 */
async function tracesOf(shop: Shop, values: string[]): Promise<string[]> {
  const tables = await db.sql<{ schema: string; name: string; tenant: boolean }[]>`
    select t.table_schema as schema, t.table_name as name,
           exists (select 1 from information_schema.columns c
                   where c.table_schema = t.table_schema and c.table_name = t.table_name
                     and c.column_name = 'workspace_id') as tenant
    from information_schema.tables t
    where t.table_type = 'BASE TABLE' and t.table_schema not in ('pg_catalog', 'information_schema')`;
  const found: string[] = [];
  for (const t of tables) {
    for (const value of values) {
      const [row] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from ${db.sql(t.schema)}.${db.sql(t.name)} x
        where strpos(lower(x::text), lower(${value})) > 0
          ${t.tenant ? db.sql`and x.workspace_id = ${shop.workspaceId}` : db.sql``}`;
      if (row && row.n > 0) found.push(`${t.schema}.${t.name}: ${value}`);
    }
  }
  return found;
}

describe('customers/redact and shop/redact (issue #21 item 5)', () => {
  // What webhook-support's COD order says about María José López Gutiérrez.
  const HERS = [
    'maria.lopez@example.com',
    'María José',
    'López',
    'Gutiérrez',
    'lopez gutierrez', // the normalised name the lookup indexes
    'Calle 63',
    '3001234567',
    '300 123 4567',
    '+573001234567',
    '311 555 0142',
    '+573115550142',
    'Chapinero',
    'portería',
  ];

  it('erases a known customer from every table, its own request included; amounts and references stay', async () => {
    const shop = await createShop(db);
    const first = orderPayload();
    const second = orderPayload({ id: bigOrderId(), name: '#2044' });
    const bob = orderPayload({
      id: bigOrderId(),
      name: '#2045',
      email: 'bob@example.com',
      firstName: 'Bob',
      lastName: 'Norman',
      phone: '+1 613 555 0100',
      address1: '50 Rideau St',
      city: 'Ottawa',
      customerId: '115310627314723954',
      note: null,
      noteAttributes: [],
    });
    for (const o of [first, second, bob]) expect((await send(shop, o.text)).status).toBe('processed');
    const request = (topic: string) =>
      `{"shop_id": 954889, "shop_domain": "${shop.shopDomain}", "customer": {"id": 7294810023456789012, "email": "maria.lopez@example.com", "phone": "300 123 4567"}, "${topic}": [${first.id}]}`;
    expect((await send(shop, request('orders_requested'), 'customers/data_request')).status).toBe(
      'processed',
    );
    expect((await tracesOf(shop, HERS)).length).toBeGreaterThan(10); // the test can see them

    const ev = await send(shop, request('orders_to_redact'), 'customers/redact');
    expect(ev.status).toBe('processed');
    // her 2 orders + the data request + this request; 1 contact; both her orders (the second through her contact)
    expect(ev.note).toBe(
      'Customer 7294810023456789012 redacted: personal data (names, emails, phones, addresses, notes) erased from 4 stored events, 1 contact and 2 orders; amounts, lines and references kept.',
    );
    expect(await tracesOf(shop, HERS)).toEqual([]);

    const orders = await db.sql<
      { shopify_order_id: string; total_value: string; description: string; redacted_at: Date | null }[]
    >`
      select shopify_order_id, total_value::text, description, redacted_at from orders
      where workspace_id = ${shop.workspaceId} order by shopify_order_name`;
    expect(orders.map((o) => [o.shopify_order_id, o.total_value, o.redacted_at !== null])).toEqual([
      [first.id, '149900.00', true],
      [second.id, '149900.00', true],
      [bob.id, '149900.00', false],
    ]);
    expect(orders[0]?.description).toBe(
      [
        'Shopify #2043',
        'Pago: pending (Cash on Delivery (COD))',
        'Total Shopify: 161900.00 COP, envío 12000.00 COP (Envío estándar)',
        'Datos personales eliminados a pedido de Shopify (redact).',
      ].join('\n'),
    );
    // Bob is another customer: untouched.
    expect(await tracesOf(shop, ['bob@example.com', 'Norman', '+16135550100'])).toEqual(
      expect.arrayContaining([
        'public.contacts: bob@example.com',
        'public.contacts: Norman',
        'public.contacts: +16135550100',
        'public.webhook_events: bob@example.com',
      ]),
    );
  });

  it('shop/redact erases every customer of the shop', async () => {
    const shop = await createShop(db);
    const hers = orderPayload();
    await send(shop, hers.text);
    const ev = await send(shop, JSON.stringify({ shop_id: 1, shop_domain: shop.shopDomain }), 'shop/redact');
    expect(ev.status).toBe('processed');
    expect(ev.note).toMatch(
      /^Shop redacted: personal data .* erased from 1 stored event, 1 contact and 1 order;/,
    );
    expect(await tracesOf(shop, HERS)).toEqual([]);
    const [order] = await db.sql<{ total_value: string }[]>`
      select total_value::text from orders where workspace_id = ${shop.workspaceId}`;
    expect(order?.total_value).toBe('149900.00');
  });
});
