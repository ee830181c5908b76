/**
 * An order event's first reads go out with its start, before the start has answered, made with the
 * payload the claim read and the integration's settings as this process last saw them (#18). What
 * the attempt writes must still follow what the start reads under row-level security: a payload
 * rewritten between claim and start (a customers/redact, say) and settings an owner changed in
 * between are the ones applied. Real PostgreSQL, the app's role pools.
 */
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { claimWebhookEvents, type QueuedWebhookEvent, workerPool } from '@crm/db/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processQueuedEvent } from '../src/jobs/process-event.ts';
import { startTestApp, type TestApp } from '../src/testing/index.ts';
import { createShop, deliver, orderPayload, type Shop } from './webhook-support.ts';

let db: TestDatabase;
let app: TestApp;
let shop: Shop;
const WORKER = 'read-ahead-test';

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db); // no workers of its own: this test claims and runs the attempts
  shop = await createShop(db);
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

/** Delivers an orders/create through the route and claims it, as a worker does. */
async function deliverAndClaim(text: string): Promise<QueuedWebhookEvent> {
  const res = await deliver(app.url, { body: text, shopDomain: shop.shopDomain, secret: shop.secret });
  expect(res.status).toBe(200);
  const claimed = await claimWebhookEvents(workerPool(app.deps.sql), WORKER, 10, 60);
  expect(claimed).toHaveLength(1);
  const [queued] = claimed;
  if (!queued) throw new Error('nothing claimed');
  return queued;
}

async function orderOf(shopifyOrderId: string) {
  const [row] = await db.sql<{ name: string | null; stageId: string; contactName: string | null }[]>`
    select o.shopify_order_name as name, o.stage_id as "stageId", c.name as "contactName"
    from orders o left join contacts c on c.id = o.contact_id
    where o.workspace_id = ${shop.workspaceId} and o.shopify_order_id = ${shopifyOrderId}`;
  return row;
}

describe('an order event read ahead of its start', () => {
  it('applies the claimed payload and settings when nothing changed in between', async () => {
    // The first event of the integration in this process: nothing to guess with yet.
    const first = orderPayload({
      name: '#RA1',
      firstName: 'Lucía',
      lastName: 'Prieto',
      phone: '301 555 0101',
      email: 'lucia@example.co',
    });
    await processQueuedEvent(app.deps, await deliverAndClaim(first.text), WORKER);
    // The second is read ahead with the settings the first started with.
    const second = orderPayload({
      name: '#RA2',
      firstName: 'Tomás',
      lastName: 'Ríos',
      phone: '301 555 0102',
      email: 'tomas@example.co',
    });
    await processQueuedEvent(app.deps, await deliverAndClaim(second.text), WORKER);
    expect(await orderOf(first.id)).toEqual({
      name: '#RA1',
      stageId: shop.stages.first,
      contactName: 'Lucía Prieto',
    });
    expect(await orderOf(second.id)).toEqual({
      name: '#RA2',
      stageId: shop.stages.first,
      contactName: 'Tomás Ríos',
    });
  });

  it('applies the payload the start reads when the event was rewritten after its claim', async () => {
    const claimedText = orderPayload({
      name: '#RA3',
      firstName: 'Julia',
      lastName: 'Mora',
      phone: '301 555 0103',
      email: 'julia@example.co',
    });
    const queued = await deliverAndClaim(claimedText.text);
    // Rewritten after the claim (as customers/redact rewrites a pending event's payload).
    const rewritten = orderPayload({
      id: claimedText.id,
      name: '#RA3-B',
      firstName: 'Paula',
      lastName: 'Vega',
      phone: '301 555 0113',
      email: 'paula@example.co',
    });
    await db.sql`update webhook_events set payload = ${rewritten.text} where id = ${queued.id}`;
    await processQueuedEvent(app.deps, queued, WORKER);
    expect(await orderOf(claimedText.id)).toEqual({
      name: '#RA3-B',
      stageId: shop.stages.first,
      contactName: 'Paula Vega',
    });
    const [event] = await db.sql<
      { status: string }[]
    >`select status from webhook_events where id = ${queued.id}`;
    expect(event?.status).toBe('processed');
  });

  it("applies the integration's settings as the start reads them when an owner changed them in between", async () => {
    const order = orderPayload({
      name: '#RA4',
      firstName: 'Marta',
      lastName: 'Gil',
      phone: '301 555 0104',
      email: 'marta@example.co',
    });
    const queued = await deliverAndClaim(order.text);
    // The owner moves new orders to another stage after this process last saw the settings.
    await db.sql`
      update integrations set config = config || ${db.sql.json({ stageId: shop.stages.second })}
      where id = ${shop.integrationId}`;
    await processQueuedEvent(app.deps, queued, WORKER);
    expect(await orderOf(order.id)).toEqual({
      name: '#RA4',
      stageId: shop.stages.second,
      contactName: 'Marta Gil',
    });
  });
});
