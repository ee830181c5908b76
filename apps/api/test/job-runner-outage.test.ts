/**
 * The job runner across a database outage that strikes while its workers are inside jobs: none of the
 * jobs' outcomes can be recorded, so graphile-worker shuts the pool down — and 0.17.3 never finishes
 * terminating a pool once two of its recordings have failed. The runner must still end that pool,
 * release its jobs and start another once the database is back, so that the jobs run again instead of
 * staying locked by a pool that no longer runs anything.
 */
import { createTestDatabase, setTestDatabaseDown, type TestDatabase } from '@crm/db/testing';
import type { TaskList } from 'graphile-worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type JobRunner, POOL_TERMINATE_TIMEOUT_MS, startJobRunner } from '../src/jobs/runner.ts';
import { startTestApp, type TestApp } from '../src/testing/index.ts';
import { waitFor } from './webhook-support.ts';

let db: TestDatabase;
let app: TestApp;
let runner: JobRunner | null = null;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db); // installs the job queue
});

afterAll(async () => {
  if (db) await setTestDatabaseDown(db.name, false).catch(() => {});
  await runner?.stop();
  await app?.close();
  await db?.drop();
});

it('jobs whose outcomes could not be recorded during an outage are released and run again once the database is back', async () => {
  const jobs = 4;
  const runs = new Map<number, number>();
  const finish: (() => void)[] = [];
  const tasks: TaskList = {
    process_webhook_event: async (payload) => {
      const n = (payload as { n: number }).n;
      const run = (runs.get(n) ?? 0) + 1;
      runs.set(n, run);
      if (run === 1) await new Promise<void>((resolve) => finish.push(resolve));
    },
  };
  for (let n = 0; n < jobs; n++)
    await db.sql`select graphile_worker.add_job('process_webhook_event', json_build_object('n', ${n}::int))`;

  runner = await startJobRunner(app.deps, { concurrency: jobs, databaseUrl: db.url, tasks });
  await waitFor(async () => finish.length === jobs, { what: 'every worker inside a job' });

  await setTestDatabaseDown(db.name, true);
  // The jobs end one by one while the database is away: each outcome's recording fails on its own.
  for (const done of finish) {
    done();
    await new Promise((r) => setTimeout(r, 50));
  }
  await setTestDatabaseDown(db.name, false);

  const left = await waitFor(
    async () => {
      const [row] = await db.sql<
        { n: number }[]
      >`select count(*)::int as n from graphile_worker._private_jobs`;
      return row?.n === 0 ? row : null;
    },
    { what: 'the queue to be empty', timeoutMs: POOL_TERMINATE_TIMEOUT_MS + 25_000 },
  );
  expect(left.n).toBe(0);
  // Each job ran again: its first run's success was never recorded (at least once, never lost).
  expect([...runs.keys()].sort()).toEqual([0, 1, 2, 3]);
  expect([...runs.values()].every((r) => r >= 2)).toBe(true);
});
