/**
 * customers/redact of a known customer (issue #21 item 5), end to end on a real PostgreSQL: her
 * orders arrive through the webhook route and the jobs, the merchant has contacts of their own, one
 * of her events is still pending when the request comes; afterwards EVERY text, json and text-array
 * column of EVERY table (information_schema) is searched for each of her values. Fixtures:
 * test/fixtures/orders-create.valentina-mx.json and customers-redact.valentina.json.
 */
import { readFileSync } from 'node:fs';
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../src/testing/index.ts';
import { createShop, deliver, type Shop } from './webhook-support.ts';

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

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const ORDER = fixture('orders-create.valentina-mx.json');
const ORDER_ID = '6120000000000000101';
const CUSTOMER_ID = '8812345678901234567';

/** Her order under another id and name (text edits: the ids are above 2^53). */
function herOrder(id: string, name: string, edits: [string, string][] = []): string {
  let text = ORDER.replaceAll(ORDER_ID, id).replace('"#MX1001"', `"${name}"`);
  for (const [from, to] of edits) text = text.replaceAll(from, to);
  return text;
}

/** What the fixtures say about Valentina: none of it may stay anywhere once she is redacted. */
const HERS = [
  'Valentina',
  'Restrepo',
  'Quintana',
  'valentina.restrepo@example.mx',
  'valentina.trabajo@example.mx',
  'Calle Durango 101',
  'Depto 4',
  'Ciudad de México',
  '06700',
  'Timbre 3B',
  'Joaquín',
  '201.141.22.87',
  '19.4194',
  '55 1234 5678',
  '5512345678',
  '55 8765 4321',
  '5587654321',
  '55 2468 1357',
  '5524681357',
  '33 9876 5432',
  '3398765432',
];

/**
 * A delivery's webhook or event id. Not random: the trace search below looks for her data in every
 * stored text, a delivery's ids and headers included, and a random UUID once held '06700' (her postal
 * code) by chance.
 */
let deliveries = 0;
const deliveryId = (kind: 'wh' | 'ev') => `${kind}-redaction-${deliveries}`;

async function send(
  shop: Shop,
  body: string,
  topic: string,
): Promise<{ status: string; note: string | null }> {
  deliveries += 1;
  const webhookId = deliveryId('wh');
  const res = await deliver(app.url, {
    body,
    topic,
    shopDomain: shop.shopDomain,
    secret: shop.secret,
    webhookId,
    headers: { 'X-Shopify-Event-Id': deliveryId('ev') },
  });
  expect(res.status).toBe(200);
  await app.runJobs();
  const [row] = await db.sql<{ status: string; note: string | null }[]>`
    select status, note from webhook_events where external_id = ${webhookId}`;
  if (!row) throw new Error('event not stored');
  return row;
}

/**
 * Every text, varchar, json, jsonb and text[] column of every table of the database (all schemas but
 * the system ones), as information_schema lists them, searched for each value (case-insensitive):
 * "schema.table.column: value" for each hit. Rows of `except` (contacts ids) are left out.
 */
async function tracesOf(values: string[], except: { contacts: string[] }): Promise<string[]> {
  const columns = await db.sql<{ schema: string; table: string; column: string }[]>`
    select c.table_schema as schema, c.table_name as table, c.column_name as column
    from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
    where t.table_type = 'BASE TABLE' and c.table_schema not in ('pg_catalog', 'information_schema')
      and (c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb')
           or (c.data_type = 'ARRAY' and c.udt_name in ('_text', '_varchar')))
    order by 1, 2, 3`;
  expect(columns.length).toBeGreaterThan(40); // the search sees the schema
  const found: string[] = [];
  for (const { schema, table, column } of columns) {
    const skip =
      schema === 'public' && table === 'contacts'
        ? db.sql`and not (x.id = any(${except.contacts}::uuid[]))`
        : db.sql``;
    const hits = await db.sql<{ value: string }[]>`
      select v.value from unnest(${values}::text[]) as v(value)
      where exists (select 1 from ${db.sql(schema)}.${db.sql(table)} x
                    where strpos(lower(x.${db.sql(column)}::text), lower(v.value)) > 0 ${skip})`;
    for (const h of hits) found.push(`${schema}.${table}.${column}: ${h.value}`);
  }
  return found;
}

type ContactRow = {
  id: string;
  name: string;
  phone: string | null;
  email: string | null;
  secondary_phone: string | null;
  secondary_email: string | null;
  address: string | null;
  city: string | null;
  department: string | null;
};

async function contact(id: string): Promise<ContactRow | undefined> {
  const [row] = await db.sql<ContactRow[]>`
    select id, name, phone, email, secondary_phone, secondary_email, address, city, department
    from contacts where id = ${id}`;
  return row;
}

describe('customers/redact of a known customer', () => {
  it('leaves no trace of her in any column of any table, but keeps amounts, references and hand-made contacts', async () => {
    const shop = await createShop(db); // default phone country CO: her numbers are Mexican by their address
    // The merchant typed her in at the counter before she ever ordered online: her phone, a nickname.
    const [counter] = await db.sql<{ id: string }[]>`
      insert into contacts (workspace_id, name, phone)
      values (${shop.workspaceId}, 'Vale (mostrador)', '+525512345678') returning id`;
    if (!counter) throw new Error('no contact');

    // A: the order to redact; B: another of hers (found through her contact); C: placed with her work
    // email and phone, so Shopify's data made a contact of its own.
    const b = '6120000000000000102';
    const c = '6120000000000000103';
    expect((await send(shop, ORDER, 'orders/create')).status).toBe('processed');
    expect((await send(shop, herOrder(b, '#MX1002'), 'orders/create')).status).toBe('processed');
    const work: [string, string][] = [
      ['valentina.restrepo@example.mx', 'valentina.trabajo@example.mx'],
      ['+52 55 1234 5678', '+52 33 9876 5432'],
    ];
    expect((await send(shop, herOrder(c, '#MX1003', work), 'orders/create')).status).toBe('processed');
    // Bob, another customer of the shop.
    const bob = herOrder('6120000000000000104', '#MX1004', [
      ['Valentina', 'Roberto'],
      ['Restrepo Quintana', 'Gómez'],
      ['valentina.restrepo@example.mx', 'roberto.gomez@example.mx'],
      [CUSTOMER_ID, '8812345678901234999'],
      ['+52 55 1234 5678', '+52 81 1111 2222'],
      ['55 8765 4321', '81 3333 4444'],
      ['55 2468 1357', '81 5555 6666'],
      ['Timbre 3B, dejar con el portero Joaquín', 'Oficina'],
      ['Calle Durango 101', 'Av. Constitución 500'],
      ['Para Joaquín', 'Para Ana'],
      ['201.141.22.87', '187.1.2.3'],
      ['19.4194', '25.6866'],
      ['Depto 4', 'Piso 2'],
      ['Ciudad de México', 'Monterrey'],
      ['06700', '64000'],
    ]);
    expect((await send(shop, bob, 'orders/create')).status).toBe('processed');

    // D: one more of hers, received but not processed yet (pending, its retry due in an hour: the
    // workers leave it alone until then).
    const d = '6120000000000000105';
    const [pending] = await db.sql<{ id: string }[]>`
      insert into webhook_events (workspace_id, integration_id, external_id, topic, shop_domain, payload, run_at)
      values (${shop.workspaceId}, ${shop.integrationId}, ${`wh-redaction-pending`}, 'orders/create',
              ${shop.shopDomain}, ${herOrder(d, '#MX1005')}, now() + interval '1 hour')
      returning id`;
    if (!pending) throw new Error('no event');

    // A contact the merchant made by hand afterwards that merely shares her email.
    const [wholesale] = await db.sql<{ id: string }[]>`
      insert into contacts (workspace_id, name, phone, email, city)
      values (${shop.workspaceId}, 'Cliente mayorista', '+525599990000', 'valentina.restrepo@example.mx', 'Puebla')
      returning id`;
    if (!wholesale) throw new Error('no contact');

    const before = await tracesOf(HERS, { contacts: [] });
    for (const table of ['webhook_events.payload', 'contacts.name', 'contacts.email', 'orders.description']) {
      expect(before.some((t) => t.startsWith(`public.${table}:`))).toBe(true); // the search can see her
    }

    const request = fixture('customers-redact.valentina.json').replace('__SHOP__', shop.shopDomain);
    const ev = await send(shop, request, 'customers/redact');
    expect(ev.status).toBe('processed');
    // A, B, C, the pending D and the request itself; the counter contact (her orders A and B) and
    // C's; orders A, B, C. Bob's event and contact are not hers.
    expect(ev.note).toBe(
      `Customer ${CUSTOMER_ID} redacted: personal data (names, emails, phones, addresses, notes) erased from 5 stored events, 2 contacts and 3 orders; amounts, lines and references kept.`,
    );

    expect(await tracesOf(HERS, { contacts: [counter.id, wholesale.id] })).toEqual([]);

    // What a person typed stays: the counter contact keeps its nickname and phone and loses what her
    // orders filled in; the wholesale contact is untouched.
    expect(await contact(counter.id)).toEqual({
      id: counter.id,
      name: 'Vale (mostrador)',
      phone: '+525512345678',
      email: null,
      secondary_phone: null,
      secondary_email: null,
      address: null,
      city: null,
      department: null,
    });
    expect(await contact(wholesale.id)).toMatchObject({
      name: 'Cliente mayorista',
      email: 'valentina.restrepo@example.mx',
      phone: '+525599990000',
      city: 'Puebla',
    });

    // Amounts, lines, references and stage stay; Bob's order is not touched.
    const orders = await db.sql<
      {
        shopify_order_id: string;
        total_value: string;
        redacted: boolean;
        shipping_address: string | null;
        lines: number;
      }[]
    >`
      select shopify_order_id, total_value::text, redacted_at is not null as redacted, shipping_address,
             (select count(*)::int from order_products p where p.order_id = o.id) as lines
      from orders o where workspace_id = ${shop.workspaceId} order by shopify_order_name`;
    expect(orders).toEqual([
      {
        shopify_order_id: ORDER_ID,
        total_value: '1798.00',
        redacted: true,
        shipping_address: null,
        lines: 2,
      },
      { shopify_order_id: b, total_value: '1798.00', redacted: true, shipping_address: null, lines: 2 },
      { shopify_order_id: c, total_value: '1798.00', redacted: true, shipping_address: null, lines: 2 },
      {
        shopify_order_id: '6120000000000000104',
        total_value: '1798.00',
        redacted: false,
        shipping_address: 'Av. Constitución 500, Piso 2',
        lines: 2,
      },
    ]);

    // The pending event is processed after the redaction: the order is made without her data and
    // without a contact called "[redacted]".
    const contactsBefore = await db.sql<{ n: number }[]>`
      select count(*)::int as n from contacts where workspace_id = ${shop.workspaceId}`;
    await db.sql`update webhook_events set run_at = now() where id = ${pending.id}`; // now due
    await app.runJobs();
    const [late] = await db.sql<
      { status: string; contact_id: string | null; shipping_address: string | null }[]
    >`
      select e.status, o.contact_id, o.shipping_address from webhook_events e
      join orders o on o.workspace_id = e.workspace_id and o.shopify_order_id = ${d}
      where e.id = ${pending.id}`;
    expect(late).toEqual({ status: 'processed', contact_id: null, shipping_address: null });
    const contactsAfter = await db.sql<{ n: number }[]>`
      select count(*)::int as n from contacts where workspace_id = ${shop.workspaceId}`;
    expect(contactsAfter).toEqual(contactsBefore);
    expect(await tracesOf(HERS, { contacts: [counter.id, wholesale.id] })).toEqual([]);

    // A later update of a redacted order (Shopify still sends it with her data) or its reconciliation
    // applies the new status and amounts, never her data.
    const paid = ORDER.replace('"financial_status": "pending"', '"financial_status": "paid"').replace(
      '"updated_at": "2026-03-10T11:20:05-06:00"',
      '"updated_at": "2026-03-11T09:00:00-06:00"',
    );
    expect((await send(shop, paid, 'orders/updated')).status).toBe('processed');
    // Its own stored payload keeps none of her data either (the order is redacted).
    expect(await tracesOf(HERS, { contacts: [counter.id, wholesale.id] })).toEqual([]);
    // Nor does a duplicate orders/create of that order, which finds it there.
    const again = await send(shop, paid, 'orders/create');
    expect(again.status).toBe('processed');
    expect(await tracesOf(HERS, { contacts: [counter.id, wholesale.id] })).toEqual([]);
    const [updated] = await db.sql<
      {
        financial_status: string;
        shipping_address: string | null;
        shipping_city: string | null;
        description: string;
      }[]
    >`
      select financial_status, shipping_address, shipping_city, description from orders
      where workspace_id = ${shop.workspaceId} and shopify_order_id = ${ORDER_ID}`;
    expect(updated).toEqual({
      financial_status: 'paid',
      shipping_address: null,
      shipping_city: null,
      description: [
        'Shopify #MX1001',
        'Pago: paid (Pago contra entrega)',
        'Total Shopify: 1897.00 MXN, envío 99.00 MXN (Envío estándar)',
        'Datos personales eliminados a pedido de Shopify (redact).',
      ].join('\n'),
    });
  });
});
