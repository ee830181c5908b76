/**
 * A worker process (`npm run worker`'s entry) killed with SIGKILL in the middle of an event: its
 * transaction never commits, the event stays leased to it until the lease ends (nobody renews it
 * any more), and then another worker runs it again — still one order.
 */
import type { ChildProcess } from 'node:child_process';
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../src/testing/index.ts';
import {
  count,
  createShop,
  deliver,
  holdOrderLines,
  orderPayload,
  startWorkerProcess,
  waitFor,
  waitUntilInsideEvent,
} from './webhook-support.ts';

let db: TestDatabase;
let app: TestApp;
let child: ChildProcess | null = null;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db);
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await app?.close();
  await db?.drop();
});

it('a worker killed mid-event: the event runs again and there is still one order', async () => {
  const shop = await createShop(db);
  const order = orderPayload();

  // Hold back order lines so the worker's job stops inside its transaction, order and contact written.
  const hold = await holdOrderLines(db);
  try {
    const res = await deliver(app.url, {
      body: order.text,
      shopDomain: shop.shopDomain,
      secret: shop.secret,
      webhookId: 'crash',
    });
    expect(res.status).toBe(200);
    const worker = startWorkerProcess(db);
    child = worker.process;
    const deadWorker = await waitUntilInsideEvent(db, worker, 'crash');

    const exited = new Promise((resolve) => worker.process.once('exit', resolve));
    worker.process.kill('SIGKILL');
    await exited;
    child = null;

    await hold.release();

    // The dead worker's transaction never committed: its connections go, with nothing written.
    await waitFor(
      async () => {
        const [row] = await db.sql<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity
          where datname = current_database() and application_name like 'crm-worker%'`;
        return row?.n === 0;
      },
      { what: 'the dead worker connections to go' },
    );
    expect(await count(db.sql, 'orders', 'workspace_id = $1', [shop.workspaceId])).toBe(0);
    expect(await count(db.sql, 'contacts', 'workspace_id = $1', [shop.workspaceId])).toBe(0);
    const [stuck] = await db.sql<{ locked_by: string | null; attempts: number; leased: boolean }[]>`
      select locked_by, attempts, run_at > now() as leased from webhook_events where external_id = 'crash'`;
    expect(stuck).toEqual({ locked_by: deadWorker, attempts: 1, leased: true });

    // While the lease runs, no other worker can claim it.
    expect(await db.sql`select * from app.claim_webhook_events('another', 10, 30)`).toEqual([]);

    // The lease ends (here without waiting its 30 s), and another worker runs it again.
    await db.sql`update webhook_events set run_at = now() where external_id = 'crash'`;
    await app.runJobs();

    expect(await count(db.sql, 'orders', 'workspace_id = $1', [shop.workspaceId])).toBe(1);
    expect(await count(db.sql, 'order_products', 'workspace_id = $1', [shop.workspaceId])).toBe(2);
    expect(await count(db.sql, 'contacts', 'workspace_id = $1', [shop.workspaceId])).toBe(1);
    const [done] = await db.sql<{ status: string; attempts: number }[]>`
      select status, attempts from webhook_events where external_id = 'crash'`;
    expect(done).toEqual({ status: 'processed', attempts: 2 });
  } finally {
    await hold.release();
  }
});
