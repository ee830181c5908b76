/**
 * Worker liveness. Webhook events (apps/api/src/jobs/event-workers.ts): the event a worker process
 * held when it died comes back when its lease ends and another worker runs it; the event of a live
 * worker never does, however long it runs (its worker renews the lease). graphile-worker jobs
 * (reconcile runs; apps/api/src/jobs/liveness.ts): a dead runner's record and its pools' jobs are
 * released by the other runners within seconds. Real processes: `npm run worker`'s entry as a child,
 * held inside an event by a table lock.
 */
import type { ChildProcess } from 'node:child_process';
import { createSql } from '@crm/db';
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { findSilentJobRunners, releaseSilentJobRunners } from '@crm/db/worker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type JobRunner, startJobRunner } from '../src/jobs/runner.ts';
import { startTestApp, type TestApp } from '../src/testing/index.ts';
import {
  captureLogger,
  count,
  createShop,
  deliver,
  holdOrderLines,
  orderPayload,
  type Shop,
  startWorkerProcess,
  type WorkerProcess,
  waitFor,
  waitUntilInsideEvent,
  waitUntilProcessed,
} from './webhook-support.ts';

let db: TestDatabase;
let app: TestApp;
let shop: Shop;
const children: ChildProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db);
  shop = await createShop(db);
});

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await app?.close();
  await db?.drop();
});

/**
 * Delivers an order while order_products is locked and waits until the worker process is inside the
 * event (its transaction waiting on the lock). Returns the worker id that holds it and the runner
 * record of the process.
 */
async function workerHeldInsideEvent(webhookId: string, worker: WorkerProcess) {
  const res = await deliver(app.url, {
    body: orderPayload().text,
    shopDomain: shop.shopDomain,
    secret: shop.secret,
    webhookId,
  });
  expect(res.status).toBe(200);
  const holder = await waitUntilInsideEvent(db, worker, webhookId);
  const [runner] = await db.sql<{ id: string; pid: number; pool_ids: string[] }[]>`
    select id, pid, pool_ids from job_runners.processes where pid = ${worker.process.pid ?? -1}`;
  return { holder, runner };
}

/** The worker processes' lease (EVENT_LEASE_SECONDS): short, so that a dead worker's event comes back soon. */
const LEASE_SECONDS = 6;
const startLeasingWorker = () => startWorkerProcess(db, { EVENT_LEASE_SECONDS: String(LEASE_SECONDS) });

const holderOf = async (webhookId: string) => {
  const [row] = await db.sql<{ locked_by: string | null; attempts: number }[]>`
    select locked_by, attempts from webhook_events where external_id = ${webhookId}`;
  return row;
};

describe('a job runner in this process, next to a worker process', () => {
  let runner: JobRunner | null = null;
  const log = captureLogger();
  /** Started once the worker process holds its job, so that this one does not take it first. */
  const startRunnerHere = async () => {
    runner = await startJobRunner({ ...app.deps, log }, { concurrency: 2, databaseUrl: db.url });
  };

  afterEach(async () => {
    await runner?.stop();
    runner = null;
  });

  it('a SIGKILLed worker process: its event comes back when the lease ends and runs here (one order); its runner record goes', async () => {
    const hold = await holdOrderLines(db);
    const worker = startLeasingWorker();
    children.push(worker.process);
    try {
      const { holder, runner: dead } = await workerHeldInsideEvent('liveness-killed', worker);
      expect(holder).toMatch(new RegExp(`^crm-events-${worker.process.pid}-`));
      // The process's graphile-worker connections carry its runner id.
      expect(dead?.pid).toBe(worker.process.pid);
      const [tagged] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity where application_name = ${dead?.id ?? ''}`;
      expect(tagged?.n).toBeGreaterThan(0);
      await startRunnerHere();

      worker.process.kill('SIGKILL');
      await worker.exited;
      const killedAt = performance.now();
      await hold.release();

      // Its lease is not renewed any more: once it ends, this process's workers take it and run it.
      await waitFor(async () => (await holderOf('liveness-killed'))?.locked_by !== holder, {
        timeoutMs: 60_000,
        intervalMs: 100,
        what: 'the dead worker’s event to come back',
      });
      const releasedAfterS = (performance.now() - killedAt) / 1000;
      expect(releasedAfterS).toBeLessThan(LEASE_SECONDS + 15);
      expect(await waitUntilProcessed(db, 'liveness-killed')).toBe(2);
      expect(await count(db.sql, 'orders', 'workspace_id = $1', [shop.workspaceId])).toBe(1);
      // The dead runner's record is released by this runner (it held no graphile-worker job).
      await waitFor(async () => log.lines.some((l) => l.msg === 'released the jobs of a dead job runner'), {
        timeoutMs: 30_000,
        what: 'the dead runner to be released',
      });
      expect(
        log.lines.filter((l) => l.msg === 'released the jobs of a dead job runner').map((l) => l.fields),
      ).toEqual([{ runner: dead?.id, pools: dead?.pool_ids.join(','), jobs: 0 }]);
      const [gone] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from job_runners.processes where id = ${dead?.id ?? ''}`;
      expect(gone?.n).toBe(0);
    } finally {
      await hold.release();
      worker.process.kill('SIGKILL');
    }
  });

  it('never takes the long event of a live worker process (its lease is renewed): it runs once', async () => {
    const ordersBefore = await count(db.sql, 'orders', 'workspace_id = $1', [shop.workspaceId]);
    const releasesBefore = log.lines.length;
    const hold = await holdOrderLines(db);
    const worker = startLeasingWorker();
    children.push(worker.process);
    try {
      const { holder, runner: live } = await workerHeldInsideEvent('liveness-live', worker);
      expect(live?.pid).toBe(worker.process.pid);
      await startRunnerHere();
      // Two leases and more: the event stays the live worker's, which renews it.
      const until = performance.now() + (2 * LEASE_SECONDS + 4) * 1000;
      while (performance.now() < until) {
        expect(await holderOf('liveness-live')).toEqual({ locked_by: holder, attempts: 1 });
        await new Promise((r) => setTimeout(r, 1000));
      }
      await hold.release();
      expect(await waitUntilProcessed(db, 'liveness-live')).toBe(1);
      expect(await count(db.sql, 'orders', 'workspace_id = $1', [shop.workspaceId])).toBe(ordersBefore + 1);
      expect(log.lines.slice(releasesBefore).filter((l) => l.msg.startsWith('released'))).toEqual([]);
    } finally {
      await hold.release();
      worker.process.kill('SIGKILL');
      await worker.exited;
    }
  });

  it('a runner records itself with its pools, and a clean stop removes the record', async () => {
    await startRunnerHere();
    // Its workers record their pool before they ask for a job.
    const rows = await waitFor(
      async () => {
        const r = await db.sql<{ pid: number; pools: number; connected: boolean }[]>`
          select p.pid, cardinality(p.pool_ids) as pools,
                 exists (select 1 from pg_stat_activity a where a.application_name = p.id) as connected
          from job_runners.processes p where p.pid = ${process.pid}`;
        return r[0]?.pools ? r : null;
      },
      { what: 'the runner’s pool to be recorded' },
    );
    expect(rows).toEqual([{ pid: process.pid, pools: 1, connected: true }]);
    await runner?.stop();
    runner = null;
    const [left] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from job_runners.processes where pid = ${process.pid}`;
    expect(left?.n).toBe(0);
  });
});

describe('a worker process told to stop', () => {
  it('on SIGTERM drains, removes its runner record and exits 0 (nothing else exits it first)', async () => {
    const worker = startWorkerProcess(db);
    children.push(worker.process);
    const pid = worker.process.pid;
    await waitFor(
      async () => {
        if (worker.process.exitCode !== null) throw new Error(`worker exited early:\n${worker.output()}`);
        const [row] = await db.sql<{ pools: number }[]>`
          select cardinality(pool_ids) as pools from job_runners.processes where pid = ${pid ?? -1}`;
        return (row?.pools ?? 0) > 0;
      },
      { timeoutMs: 45_000, what: 'the worker process to record itself' },
    );
    worker.process.kill('SIGTERM');
    const code = await worker.exited;
    expect(code, worker.output()).toBe(0);
    const [left] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from job_runners.processes where pid = ${pid ?? -1}`;
    expect(left?.n).toBe(0);
  });
});

describe('which runners count as dead (the SQL of the sweep)', () => {
  it('a runner is dead only with a stale heartbeat and no session; a release takes its pools’ jobs', async () => {
    await db.sql`
      insert into job_runners.processes (id, host, pid, pool_ids, beat_at) values
        ('crm-jobs-test-stale-connected', 'h', 1, '{pool-a}', now() - interval '1 minute'),
        ('crm-jobs-test-stale-gone', 'h', 2, '{pool-b,pool-c}', now() - interval '1 minute'),
        ('crm-jobs-test-fresh-gone', 'h', 3, '{pool-d}', now())`;
    const session = createSql(db.url, { max: 1, applicationName: 'crm-jobs-test-stale-connected' });
    try {
      await session`select 1`;
      // Added already locked (one transaction): no worker can take them.
      await db.sql.begin(async (tx) => {
        await tx`select graphile_worker.add_job('reconcile_orders', '{}'::json, job_key => 'liveness-sql-' || n)
                 from generate_series(1, 3) n`;
        await tx`
          update graphile_worker._private_jobs j set locked_by = v.pool, locked_at = now()
          from (values ('liveness-sql-1', 'pool-a'), ('liveness-sql-2', 'pool-b'), ('liveness-sql-3', 'pool-d')) v(key, pool)
          where j.key = v.key`;
      });
      const silent = (await findSilentJobRunners(db.sql, 'crm-jobs-test-self', 10)).filter((id) =>
        id.startsWith('crm-jobs-test-'),
      );
      expect(silent).toEqual(['crm-jobs-test-stale-gone']);
      // Asked to release all three, it releases only the one still silent at that moment.
      const released = await releaseSilentJobRunners(
        db.sql,
        ['crm-jobs-test-stale-connected', 'crm-jobs-test-stale-gone', 'crm-jobs-test-fresh-gone'],
        10,
      );
      expect(released).toEqual([{ id: 'crm-jobs-test-stale-gone', poolIds: ['pool-b', 'pool-c'], jobs: 1 }]);
      const jobs = await db.sql<{ key: string; locked_by: string | null }[]>`
        select key, locked_by from graphile_worker.jobs where key like 'liveness-sql-%' order by key`;
      expect(jobs).toEqual([
        { key: 'liveness-sql-1', locked_by: 'pool-a' },
        { key: 'liveness-sql-2', locked_by: null },
        { key: 'liveness-sql-3', locked_by: 'pool-d' },
      ]);
      // A second sweeper finds nothing left to do.
      expect(await releaseSilentJobRunners(db.sql, ['crm-jobs-test-stale-gone'], 10)).toEqual([]);
    } finally {
      await session.end();
      await db.sql`delete from graphile_worker._private_jobs where key like 'liveness-sql-%'`;
      await db.sql`delete from job_runners.processes where id like 'crm-jobs-test-%'`;
    }
  });
});
