/**
 * The upgrade to webhook_events as the queue (migration 0022): the graphile-worker jobs of webhook
 * events that a database of the previous version holds are not lost — each event keeps its job's
 * schedule (due now, or a retry's later time), the jobs go, and the new workers process the events.
 */
import { loadMigrations, migrate } from '@crm/db';
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { runMigrations } from 'graphile-worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp } from '../src/testing/index.ts';
import { count, createShop, orderPayload } from './webhook-support.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
});
afterAll(async () => {
  await db?.drop();
});

it('pending webhook jobs of the previous version become due events; nothing is lost, nothing doubled', async () => {
  const all = await loadMigrations();
  const before = all.filter((m) => m.name < '0022_');
  await migrate(db.sql, before);
  await runMigrations({ connectionString: db.url });
  const shop = await createShop(db);

  // As the previous version stored them: an event with its job (due now, a retry waiting an hour, and
  // one running in a worker of the previous version), and a processed event whose job is gone.
  const store = async (externalId: string, status = 'pending') => {
    const [row] = await db.sql<{ id: string }[]>`
      insert into webhook_events (workspace_id, integration_id, external_id, topic, shop_domain, payload, status)
      values (${shop.workspaceId}, ${shop.integrationId}, ${externalId}, 'orders/create', ${shop.shopDomain},
              ${orderPayload().text}, ${status})
      returning id`;
    if (!row) throw new Error('not stored');
    if (status === 'pending') {
      await db.sql.begin(async (tx) => {
        await tx`select set_config('app.workspace_id', ${shop.workspaceId}, true)`;
        await tx`select app.enqueue_webhook_event(${row.id})`;
      });
    }
    return row.id;
  };
  const due = await store('up-due');
  const retry = await store('up-retry');
  const running = await store('up-running');
  await store('up-done', 'processed');
  await db.sql`
    update graphile_worker._private_jobs set run_at = now() + interval '1 hour', attempts = 1
    where key = ${`webhook_event:${retry}`}`;
  await db.sql`
    update graphile_worker._private_jobs set locked_at = now(), locked_by = 'pool-old'
    where key = ${`webhook_event:${running}`}`;
  expect(await count(db.sql, 'graphile_worker._private_jobs', 'true')).toBe(3);

  await migrate(db.sql);

  expect(await count(db.sql, 'graphile_worker._private_jobs', 'true')).toBe(0);
  const events = await db.sql<{ id: string; status: string; due: boolean; later: boolean }[]>`
    select id, status, run_at <= now() as due, run_at > now() + interval '50 minutes' as later
    from webhook_events where locked_by is null order by external_id`;
  expect(events.map(({ id, ...e }) => e)).toEqual([
    { status: 'processed', due: true, later: false },
    { status: 'pending', due: true, later: false },
    { status: 'pending', due: false, later: true },
    { status: 'pending', due: true, later: false },
  ]);
  expect(events.find((e) => e.id === retry)?.later).toBe(true);

  const app = await startTestApp(db);
  try {
    await app.runJobs();
  } finally {
    await app.close();
  }
  const done = await db.sql<{ id: string; status: string }[]>`
    select id, status from webhook_events where id in (${due}, ${running}, ${retry}) order by external_id`;
  expect(Object.fromEntries(done.map((e) => [e.id, e.status]))).toEqual({
    [due]: 'processed',
    [running]: 'processed',
    [retry]: 'pending',
  });
  expect(await count(db.sql, 'orders', 'workspace_id = $1', [shop.workspaceId])).toBe(2);
});
