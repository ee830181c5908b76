/**
 * The database goes away while Shopify keeps delivering: deliveries the database could not take are
 * answered 503 (so Shopify retries), every 200 is an event that was committed, and once the database
 * is back the workers — which stayed up — process every acknowledged event. An attempt the outage cut
 * off is given back as soon as the database answers, not when its lease ends.
 *
 * "Down" is the application database refusing connections (`allow_connections = false`) with every
 * open connection to it terminated: the same errors the app sees when its server stops, but fast and
 * reliable on a shared test cluster.
 */
import { createTestDatabase, setTestDatabaseDown, type TestDatabase } from '@crm/db/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../src/testing/index.ts';
import {
  count,
  createShop,
  deliver,
  holdOrderLines,
  orderPayload,
  type Shop,
  waitFor,
  waitUntilInsideEvent,
  waitUntilProcessed,
} from './webhook-support.ts';

let db: TestDatabase;
let app: TestApp;
/** The events' lease, the default: an event the outage cut off must come back well before it ends. */
const LEASE_SECONDS = 30;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db, { eventLeaseSeconds: LEASE_SECONDS });
});

afterAll(async () => {
  if (db) await setTestDatabaseDown(db.name, false).catch(() => {});
  await app?.close();
  await db?.drop();
});

type Sent = { webhookId: string; body: string; status: number };

async function send(shop: Shop, webhookId: string, body: string): Promise<Sent> {
  const res = await deliver(app.url, { body, shopDomain: shop.shopDomain, secret: shop.secret, webhookId });
  return { webhookId, body, status: res.status };
}

it('503 while the database is down, every 200 durable, and all processed once it is back', async () => {
  const shop = await createShop(db);
  await app.runJobs(); // workers up before the outage
  const payloads = Array.from({ length: 45 }, (_, i) => ({
    webhookId: `down-${i}`,
    body: orderPayload().text,
  }));

  // Deliveries keep coming while the database goes down mid-stream, and comes back.
  const sent: Sent[] = [];
  const stream = (async () => {
    for (const p of payloads) {
      sent.push(await send(shop, p.webhookId, p.body));
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  await waitFor(async () => sent.length >= 10, { what: 'the first deliveries' });
  await setTestDatabaseDown(db.name, true);
  await waitFor(async () => sent.length >= 25, { what: 'deliveries during the outage' });
  await setTestDatabaseDown(db.name, false);
  await stream;

  const statuses = new Set(sent.map((s) => s.status));
  expect([...statuses].every((s) => s === 200 || s === 503)).toBe(true);
  const refused = sent.filter((s) => s.status === 503);
  expect(refused.length).toBeGreaterThanOrEqual(5);
  expect(sent.slice(0, 10).every((s) => s.status === 200)).toBe(true);
  expect(sent.slice(-5).every((s) => s.status === 200)).toBe(true);

  // Acked means durable: every 200 is a committed event.
  const acked = sent.filter((s) => s.status === 200).map((s) => s.webhookId);
  const stored = await db.sql<{ external_id: string }[]>`
    select external_id from webhook_events where workspace_id = ${shop.workspaceId}`;
  const storedIds = new Set(stored.map((r) => r.external_id));
  expect(acked.filter((id) => !storedIds.has(id))).toEqual([]);

  // Shopify retries what was refused; then every event is processed by the workers that stayed up.
  for (const s of refused) {
    expect((await send(shop, s.webhookId, s.body)).status).toBe(200);
  }
  // Events whose attempts failed during the outage wait out their backoff (e^attempts s: 20 s and
  // more after a long outage on a loaded machine): let that time pass, as often as it takes within
  // 50 s. An event still LEASED (held by a stuck worker) keeps the queue busy and fails the test, with
  // the list of what kept it busy.
  const deadline = Date.now() + 50_000;
  for (;;) {
    await db.sql`
      update webhook_events set run_at = now()
      where status = 'pending' and locked_by is null and run_at > now()`;
    await app.runJobs({ timeoutMs: Math.max(1000, deadline - Date.now()) });
    const [waiting] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from webhook_events where status = 'pending' and run_at > now()`;
    if (!waiting?.n || Date.now() > deadline) break;
  }
  const events = await db.sql<{ status: string; n: number }[]>`
    select status, count(*)::int as n from webhook_events where workspace_id = ${shop.workspaceId} group by status`;
  expect(events).toEqual([{ status: 'processed', n: payloads.length }]);
  const [orders] = await db.sql<{ n: number }[]>`
    select count(*)::int as n from orders where workspace_id = ${shop.workspaceId}`;
  expect(orders?.n).toBe(payloads.length);

  const health = await fetch(`${app.url}/healthz`);
  expect(health.status).toBe(200);
});

it('an attempt the outage cut off is given back once the database answers, not when its lease ends', async () => {
  const shop = await createShop(db);
  await app.runJobs(); // workers up
  const hold = await holdOrderLines(db);
  try {
    expect((await send(shop, 'cut-by-outage', orderPayload().text)).status).toBe(200);
    await waitUntilInsideEvent(db, null, 'cut-by-outage');
    // The outage ends the attempt's session (and the hold's); its failure cannot be recorded meanwhile.
    await setTestDatabaseDown(db.name, true);
    await new Promise((r) => setTimeout(r, 1500));
    await setTestDatabaseDown(db.name, false);
    // Recorded once the database answers: due after its backoff (e s), long before its lease ends.
    expect(await waitUntilProcessed(db, 'cut-by-outage', (LEASE_SECONDS * 1000) / 2)).toBe(2);
    expect(await count(db.sql, 'orders', 'workspace_id = $1', [shop.workspaceId])).toBe(1);
  } finally {
    await hold.release();
  }
});
