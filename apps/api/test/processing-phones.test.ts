/**
 * Phone countries end to end (issue #21 item 1): US, Mexican, UK and Colombian numbers written with
 * and without their country code (test/fixtures/phones.json), each in an order delivered through the
 * webhook route to an integration whose default country is CO, processed by the jobs; the contact's
 * phone is read back from PostgreSQL. A number is read in its address's country, never forced into
 * the default one.
 */
import { readFileSync } from 'node:fs';
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../src/testing/index.ts';
import { createShop, deliver } from './webhook-support.ts';

type PhoneCase = { label: string; country: string | null; phone: string; expected: string | null };
const { cases } = JSON.parse(readFileSync(new URL('./fixtures/phones.json', import.meta.url), 'utf8')) as {
  cases: PhoneCase[];
};

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

/** An order whose only phone is its shipping address's, in that address's country. */
function order(c: PhoneCase, i: number): string {
  const address = {
    name: `Cliente ${i}`,
    address1: `Calle ${i}`,
    city: 'Ciudad',
    country_code: c.country,
    phone: c.phone,
  };
  return `{"id": ${7700000000000000000n + BigInt(i)}, "name": "#P${i}", "email": "buyer${i}@example.com",
    "phone": null, "updated_at": "2026-03-01T10:00:00Z", "currency": "USD", "financial_status": "paid",
    "customer": {"id": ${8800000000000000000n + BigInt(i)}, "email": "buyer${i}@example.com", "first_name": "Cliente", "last_name": "${i}", "phone": null},
    "shipping_address": ${JSON.stringify(address)}, "billing_address": null,
    "line_items": [{"id": ${9900000000000000000n + BigInt(i)}, "title": "Taza", "quantity": 1, "price": "10.00"}]}`;
}

describe('phones from every country, with and without a country code', () => {
  it('the contact gets the number of its address country, or none; never the default country wrongly', async () => {
    expect(cases.map((c) => c.country)).toEqual(expect.arrayContaining(['US', 'MX', 'GB', 'CO', null]));
    const shop = await createShop(db); // defaultPhoneCountry CO
    for (const [i, c] of cases.entries()) {
      const res = await deliver(app.url, {
        body: order(c, i),
        topic: 'orders/create',
        shopDomain: shop.shopDomain,
        secret: shop.secret,
        webhookId: `wh-phone-${i}`,
      });
      expect(res.status).toBe(200);
    }
    await app.runJobs();
    const rows = await db.sql<{ email: string; phone: string | null; status: string }[]>`
      select c.email, c.phone, e.status from webhook_events e
      join orders o on o.id = e.order_id
      join contacts c on c.id = o.contact_id
      where e.workspace_id = ${shop.workspaceId}`;
    const phoneOf = new Map(rows.map((r) => [r.email, r]));
    const got = cases.map((c, i) => [c.label, phoneOf.get(`buyer${i}@example.com`)?.phone]);
    expect(got).toEqual(cases.map((c) => [c.label, c.expected]));
    expect(rows.every((r) => r.status === 'processed')).toBe(true);
  });
});
