// What keeps the job queue busy, as the test app and an on-call engineer read it.
import { createSql } from '@crm/db';
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { countBusyJobs, describeBusyJobs, describeDatabaseSessions } from '@crm/db/worker';
import { runMigrations } from 'graphile-worker';
import { afterAll, beforeAll, expect, it } from 'vitest';

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
  await db.sql`select graphile_worker.add_job('process_webhook_event', '{}'::json)`;
  await db.sql`select graphile_worker.add_job('process_webhook_event', '{}'::json, run_at => now() + interval '1 hour')`;
  const [locked] = await db.sql<{ id: string }[]>`
    select (graphile_worker.add_job('process_webhook_event', '{}'::json)).id::text as id`;
  await db.sql`
    update graphile_worker._private_jobs
    set locked_at = now() - interval '12 seconds', locked_by = 'pool-x', attempts = 1, last_error = 'boom'
    where id = ${locked?.id ?? ''}::bigint`;

  expect(await countBusyJobs(db.sql)).toBe(2);
  const lines = await describeBusyJobs(db.sql);
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(
    /^job \d+ process_webhook_event: due [\d.]+ s ago, attempt 0\/\d+, last error none$/,
  );
  expect(lines[1]).toMatch(
    /^job \d+ process_webhook_event: locked by pool-x for 1\d(\.\d)? s, attempt 1\/\d+, last error boom$/,
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
