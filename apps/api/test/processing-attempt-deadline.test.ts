/**
 * An event's attempt that cannot end — here, waiting on a lock that is never given up — is cut after
 * EVENT_ATTEMPT_TIMEOUT_SECONDS by the worker that runs it: its session is ended, the event goes back
 * to the queue, the cut is logged with the event, and once the lock is gone the event is applied:
 * one order. Without the deadline the worker renews the lease for as long as it lives, and the event
 * (and the worker's slot) stays taken.
 */
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
  type WorkerProcess,
  waitFor,
  waitUntilInsideEvent,
} from './webhook-support.ts';

let db: TestDatabase;
let app: TestApp;
let worker: WorkerProcess | null = null;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db);
});

afterAll(async () => {
  worker?.process.kill('SIGKILL');
  await app?.close();
  await db?.drop();
});

/** The worker process's first JSON log line whose message contains `msg`. */
function logLine(msg: string): Record<string, unknown> | undefined {
  return worker
    ?.output()
    .split('\n')
    .filter((line) => line.includes(msg))
    .map((line) => JSON.parse(line) as Record<string, unknown>)[0];
}

it('an attempt stuck past its deadline is cut, logged and retried: one order', async () => {
  const shop = await createShop(db);
  const order = orderPayload();

  // Hold back order lines: the attempt waits inside its transaction, order and contact written.
  const hold = await holdOrderLines(db);
  try {
    const res = await deliver(app.url, {
      body: order.text,
      shopDomain: shop.shopDomain,
      secret: shop.secret,
      webhookId: 'stuck',
    });
    expect(res.status).toBe(200);
    worker = startWorkerProcess(db, {
      LOG_LEVEL: 'info',
      EVENT_ATTEMPT_TIMEOUT_SECONDS: '2',
      METRICS_ENABLED: 'true',
      METRICS_PORT: '0',
    });
    const holder = await waitUntilInsideEvent(db, worker, 'stuck');
    const started = Date.now();

    // Cut: logged with the event, its session ended, and its failure recorded for the owner.
    const cut = await waitFor(async () => logLine('ran past its deadline'), {
      timeoutMs: 20_000,
      what: 'the log line of the cut',
    });
    // Not before its deadline (2 s); at the first check after it (every 5 s).
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const [event] = await db.sql<{ id: string }[]>`select id from webhook_events where external_id = 'stuck'`;
    expect(cut).toMatchObject({ level: 'error', eventId: event?.id, attempt: 1, worker: holder });
    expect(cut.backendPid).toEqual(expect.any(Number));
    await waitFor(
      async () => {
        const [row] = await db.sql<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity where pid = ${Number(cut.backendPid)}`;
        return row?.n === 0;
      },
      { what: "the cut attempt's session to end" },
    );
    // Its session ended, the attempt either fails and records why (then retried after its backoff),
    // or — if the driver never answers it (postgres.js, see commitWith in @crm/db) — stays pending in
    // the worker, which no longer renews its lease: the event comes back when the lease lapses.
    const [row] = await db.sql<{ status: string; last_error: string | null }[]>`
      select status, last_error from webhook_events where external_id = 'stuck'`;
    expect(row?.status).toBe('pending');
    if (row?.last_error !== null)
      expect(row?.last_error).toBe(
        'Processing this event took longer than 2 s and was stopped; it will be retried.',
      );
    const metrics = await fetch(`http://127.0.0.1:${logLine('worker started')?.metricsPort}/metrics`);
    expect(await metrics.text()).toMatch(/^crm_webhook_event_attempts_cut_total 1$/m);
    expect(await count(db.sql, 'order_products', 'true')).toBe(0);

    await hold.release();
  } finally {
    await hold.release();
  }

  // The same worker, still running, takes the event again (after the backoff or the lease) and applies it.
  const attempts = await waitFor(
    async () => {
      const [e] = await db.sql<{ status: string; attempts: number }[]>`
        select status, attempts from webhook_events where external_id = 'stuck'`;
      return e?.status === 'processed' ? e.attempts : null;
    },
    { timeoutMs: 60_000, what: 'the event to be processed' },
  );
  expect(attempts).toBeGreaterThanOrEqual(2);
  expect(worker.process.exitCode).toBeNull();
  expect(
    await count(db.sql, 'orders', 'workspace_id = $1 and shopify_order_id = $2', [
      shop.workspaceId,
      order.id,
    ]),
  ).toBe(1);
  expect(await count(db.sql, 'order_products', 'true')).toBeGreaterThan(0);
}, 120_000);
