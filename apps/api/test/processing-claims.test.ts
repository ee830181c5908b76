/**
 * How the event workers claim from the queue (webhook_events): once per event when deliveries come one
 * at a time — a finished attempt does not claim again after a claim that emptied the queue — and still
 * every poll interval for what comes due without a notification (a retry, a lapsed lease).
 */
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type EventWorkers, startEventWorkers } from '../src/jobs/event-workers.ts';
import { registry } from '../src/metrics.ts';
import { startTestApp, type TestApp } from '../src/testing/index.ts';
import { count, createShop, deliver, orderPayload, type Shop, waitFor } from './webhook-support.ts';

let db: TestDatabase;
let app: TestApp;
let shop: Shop;
let workers: EventWorkers | null = null;

beforeAll(async () => {
  db = await createTestDatabase();
  // Metrics served, so that this process counts its claims (crm_webhook_event_claims_total).
  app = await startTestApp(db, { metrics: { enabled: true, token: null, workerPort: 0 } });
  shop = await createShop(db);
});

afterEach(async () => {
  await workers?.stop();
  workers = null;
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

async function claims(): Promise<{ events: number; none: number }> {
  const metric = await registry.getSingleMetric('crm_webhook_event_claims_total')?.get();
  const of = (result: string) => metric?.values.find((v) => v.labels.result === result)?.value ?? 0;
  return { events: of('events'), none: of('none') };
}

const processed = () =>
  count(db.sql, 'webhook_events', `workspace_id = $1 and status = 'processed'`, [shop.workspaceId]);

async function deliverOrder(): Promise<void> {
  const order = orderPayload({ phone: null, email: `claims-${Math.random()}@example.com` });
  const answer = await deliver(app.url, {
    body: order.text,
    shopDomain: shop.shopDomain,
    secret: shop.secret,
  });
  expect(answer.status).toBe(200);
}

describe('event workers claiming', () => {
  it('deliveries one at a time: one claim each, none that finds nothing after an attempt ends', async () => {
    // A poll too slow to count here: every claim below answers a notification or a finished attempt.
    workers = await startEventWorkers(app.deps, { concurrency: 4, pollMs: 60_000 });
    await waitFor(async () => (await claims()).none >= 1, { what: 'the first claim (an empty queue)' });
    const before = await claims();
    const done = await processed();
    const n = 6;
    for (let i = 1; i <= n; i++) {
      await deliverOrder();
      await waitFor(async () => (await processed()) === done + i, { what: `event ${i} processed` });
    }
    // Let a claim that a finished attempt would start be counted.
    await new Promise((r) => setTimeout(r, 200));
    const after = await claims();
    expect(after.events - before.events).toBe(n);
    // Claiming again at every finished attempt found nothing n times.
    expect(after.none - before.none).toBe(0);
  });

  it('an event that comes due without a notification is claimed at the next poll', async () => {
    // Stored while no worker runs, then made due only later (as a retry is): no notification will come.
    await deliverOrder();
    const [event] = await db.sql<{ id: string }[]>`
      update webhook_events set run_at = now() + interval '1.5 seconds'
      where workspace_id = ${shop.workspaceId} and status = 'pending'
      returning id`;
    expect(event).toBeDefined();
    const done = await processed();
    workers = await startEventWorkers(app.deps, { concurrency: 4, pollMs: 300 });
    await waitFor(async () => (await processed()) === done + 1, {
      what: 'the event processed after it came due',
      timeoutMs: 5000,
    });
  });
});
