/**
 * `npm run worker` with metrics on: a real worker process (no webhook route of its own) serves
 * /healthz, /readyz and /metrics on METRICS_PORT, processes what another process acked, counts it in
 * its own /metrics, and drains on SIGTERM with exit 0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, freePort, type TestDatabase } from '@crm/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../src/testing/index.ts';
import { createShop, deliver, orderPayload, type Shop, waitFor } from './webhook-support.ts';

let db: TestDatabase;
let shop: Shop;
let app: TestApp;
let worker: ChildProcess | null = null;

beforeAll(async () => {
  db = await createTestDatabase();
  shop = await createShop(db);
  app = await startTestApp(db); // acks only: no workers in this process
});

afterAll(async () => {
  if (worker && worker.exitCode === null) worker.kill('SIGKILL');
  await app?.close();
  await db?.drop();
});

/** The sum of a counter's samples whose labels include every one of `labels`. */
function counterSum(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('npm run worker', () => {
  it('serves /healthz, /readyz and /metrics on METRICS_PORT, counts what it processed, and drains on SIGTERM', async () => {
    const port = await freePort();
    let output = '';
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/worker-main.ts'], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        APP_ENCRYPTION_KEY: db.key.bytes.toString('base64'),
        WORKER_CONCURRENCY: '2',
        METRICS_ENABLED: 'true',
        METRICS_PORT: String(port),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker = proc;
    proc.stdout?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    proc.stderr?.on('data', (d: Buffer) => {
      output += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;

    const ready = await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`worker exited:\n${output}`);
        const r = await fetch(`${base}/readyz`).catch(() => null);
        return r?.status === 200 ? r : undefined;
      },
      { timeoutMs: 60_000, what: 'the worker to be ready' },
    );
    expect(await ready.json()).toMatchObject({ ok: true, checks: { workers: 'running' } });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    const orders = [orderPayload(), orderPayload(), orderPayload()];
    for (const order of orders) {
      const r = await deliver(app.url, {
        body: order.text,
        shopDomain: shop.shopDomain,
        secret: shop.secret,
      });
      expect(r.status).toBe(200);
    }
    // The worker process, not the acking one, turns them into orders.
    await waitFor(
      async () => {
        const [row] = await db.sql<{ n: number }[]>`
          select count(*)::int as n from webhook_events where status = 'processed'`;
        return row?.n === orders.length;
      },
      { timeoutMs: 60_000, what: 'the worker process to process the events' },
    );

    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(
      counterSum(text, 'crm_webhook_events_total', { topic: 'orders/create', outcome: 'processed' }),
    ).toBe(orders.length);
    expect(text).toContain('crm_queue_oldest_pending_seconds');

    proc.kill('SIGTERM');
    expect(await exited, output).toBe(0);
    expect(output).toContain('"msg":"shut down"');
    const [locked] = await db.sql<{ n: number }[]>`
      select (select count(*) from graphile_worker._private_jobs where locked_at is not null)::int
           + (select count(*) from webhook_events where locked_by is not null)::int as n`;
    expect(locked?.n).toBe(0);
  }, 120_000);
});
