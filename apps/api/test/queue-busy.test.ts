// What keeps the job queue busy, as the test app and an on-call engineer read it.
import { createSql } from '@crm/db';
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { countBusyJobs, describeBusyJobs, describeDatabaseSessions } from '@crm/db/worker';
import { runMigrations } from 'graphile-worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createShop } from './webhook-support.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await runMigrations({ connectionString: db.url });
});
afterAll(async () => {
  await db?.drop();
});

it('counts and describes locked and due jobs, not those scheduled for later', async () => {
  expect(await countBusyJobs(db.sql)).toBe(0);
  expect(await describeBusyJobs(db.sql)).toEqual([]);
  await db.sql`select graphile_worker.add_job('reconcile_orders', '{}'::json)`;
  await db.sql`select graphile_worker.add_job('reconcile_orders', '{}'::json, run_at => now() + interval '1 hour')`;
  const [locked] = await db.sql<{ id: string }[]>`
    select (graphile_worker.add_job('reconcile_orders', '{}'::json)).id::text as id`;
  await db.sql`
    update graphile_worker._private_jobs
    set locked_at = now() - interval '12 seconds', locked_by = 'pool-x', attempts = 1, last_error = 'boom'
    where id = ${locked?.id ?? ''}::bigint`;

  expect(await countBusyJobs(db.sql)).toBe(2);
  const lines = await describeBusyJobs(db.sql);
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^job \d+ reconcile_orders: due [\d.]+ s ago, attempt 0\/\d+, last error none$/);
  expect(lines[1]).toMatch(
    /^job \d+ reconcile_orders: locked by pool-x for 1\d(\.\d)? s, attempt 1\/\d+, last error boom$/,
  );
});

it('counts and describes webhook events leased and due, not those done or scheduled for later', async () => {
  await db.sql`delete from graphile_worker._private_jobs`;
  const shop = await createShop(db);
  const insert = (externalId: string, extra: string) =>
    db.sql.unsafe(
      `insert into webhook_events (workspace_id, integration_id, external_id, topic, shop_domain, payload,
                                   status, run_at, locked_by, attempts, last_error)
       select $1, $2, $3, 'orders/create', 'x.myshopify.com', '{}', ${extra}`,
      [shop.workspaceId, shop.integrationId, externalId],
    );
  await insert('due', `'pending', now() - interval '3 seconds', null, 0, null`);
  await insert('later', `'pending', now() + interval '1 hour', null, 1, 'later'`);
  await insert('leased', `'pending', now() + interval '20 seconds', 'crm-events-x', 2, 'boom'`);
  await insert('done', `'processed', now() - interval '1 hour', null, 1, null`);
  expect(await countBusyJobs(db.sql)).toBe(2);
  const lines = await describeBusyJobs(db.sql);
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^event \S+ orders\/create: due [\d.]+ s ago, attempt 0, last error none$/);
  expect(lines[1]).toMatch(
    /^event \S+ orders\/create: leased by crm-events-x for (19\.\d|20\.0) s more, attempt 2, last error boom$/,
  );
});

it("describes the database's other sessions: who, in what state, waiting on what, for how long", async () => {
  const other = createSql(db.url, { max: 1, applicationName: 'crm-idle-in-tx' });
  try {
    const tx = await other.reserve();
    await tx`begin`;
    await tx`select 1 as held`;
    const lines = await describeDatabaseSessions(db.sql);
    const line = lines.find((l) => l.includes('crm-idle-in-tx'));
    expect(line).toMatch(
      /^session \d+ crm-idle-in-tx as \S+: idle in transaction waiting on Client\/ClientRead, transaction [\d.]+ s, state [\d.]+ s: select 1 as held$/,
    );
    await tx`rollback`;
    tx.release();
  } finally {
    await other.end();
  }
});
