/**
 * Processing end to end: signed orders/create deliveries into the real server (no in-process workers)
 * with 1 and 2 `npm run worker` processes (apps/api/src/worker-main.ts), over a workspace of 10k,
 * 100k and 1M contacts (BENCH_PROCESSING_SIZES; loaded one after the other into the same workspace,
 * in SQL) and 1k products. Reports orders/s of a burst, the per-order cost's growth from the
 * smallest size to the largest, and the time from a delivery's ack to its order being visible in
 * `orders` (polled every 20 ms) when idle (one at a time) and under load (a steady rate at ~60% of
 * the measured throughput).
 */
import { availableParallelism } from 'node:os';
import { DEFAULT_WORKER_CONCURRENCY } from '@crm/api/config';
import type { Sql } from '@crm/db';
import { type AppProcess, startApi, startWorker } from '../lib/app.ts';
import { type CpuSpent, measureCpuSpent } from '../lib/cpu.ts';
import { type BenchDatabase, createBenchDatabase, generateContacts, generateProducts } from '../lib/db.ts';
import type { BenchOptions } from '../lib/options.ts';
import { type SectionReport, stamp } from '../lib/report.ts';
import { type Prepared, sendAll } from '../lib/sender.ts';
import { fmt, markdownTable, median, percentile, rng, sleep } from '../lib/stats.ts';
import { orderPayload, randomOrder, signedHeaders } from '../lib/webhooks.ts';

/** How many of the oldest pending orders each poll asks for (see VisibilityWatcher.run). */
const WATCH_WINDOW = 64;

/** Watches `orders` for Shopify order ids and records when each became visible. */
class VisibilityWatcher {
  private pending = new Set<string>();
  readonly seenAt = new Map<string, number>();
  private running = true;
  private loop: Promise<void>;
  constructor(
    private sql: Sql,
    private workspaceId: string,
  ) {
    this.loop = this.run();
  }
  watch(orderId: string): void {
    if (!this.seenAt.has(orderId)) this.pending.add(orderId);
  }
  private async run(): Promise<void> {
    let polls = 0;
    while (this.running) {
      if (this.pending.size > 0) {
        // The oldest pending ones (a Set keeps the order they were sent in; the queue runs oldest
        // first), and all of them once a second for any that overtook those. Asking for every pending
        // order 50 times a second (a burst's 1,000 index probes each time) took a quarter of a core
        // from the workers it measures.
        polls += 1;
        const ids = polls % 50 === 0 ? [...this.pending] : [...this.pending].slice(0, WATCH_WINDOW);
        // Through the unique (workspace, Shopify order id) index: a scan of every order 50 times a
        // second took the database's time from the workers it measures, more with every run. Planned
        // at every poll (an unnamed statement): a prepared one kept the plan of its first polls, made
        // while the table was nearly empty, and with no ANALYZE (autovacuum off) read every order at
        // each poll — 1,400 buffers a poll by 4,400 orders, 1.2 ms of PostgreSQL's time per order
        // processed (pg_stat_statements, BENCHMARKS.md session 16); now ~45.
        const rows = await this.sql.unsafe<{ id: string }[]>(
          `select shopify_order_id as id from orders
           where workspace_id = $1 and shopify_order_id = any($2::text[])`,
          [this.workspaceId, ids],
          { prepare: false },
        );
        const now = performance.now();
        for (const r of rows) {
          this.pending.delete(r.id);
          this.seenAt.set(r.id, now);
        }
      }
      await sleep(20);
    }
  }
  async waitAll(ids: readonly string[], maxMs: number): Promise<boolean> {
    const deadline = performance.now() + maxMs;
    while (performance.now() < deadline) {
      if (ids.every((id) => this.seenAt.has(id))) return true;
      await sleep(50);
    }
    return false;
  }
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

type Run = {
  contacts: number;
  workers: number;
  idle: number[];
  burstOrders: number;
  burstSeconds: number;
  ordersPerSecond: number;
  loaded: number[];
  loadRate: number;
  missing: number;
  /** CPU spent from the burst's first send to its last order seen. */
  burstCpu: CpuSpent;
};

/** The processes whose CPU a run counts. */
type Pids = { server: number; workers: number[] };

type Shape = { warmPerProcess: number; idleCount: number; burst: number; loadSeconds: number };

/**
 * One run against a server and its worker processes: warm-up, idle ack→visible, a burst's orders/s,
 * then ack→visible under a steady load at ~60% of that rate.
 */
async function measure(
  url: string,
  watcher: VisibilityWatcher,
  make: () => Prepared & { orderId: string },
  { warmPerProcess, idleCount, burst, loadSeconds }: Shape,
  size: number,
  k: number,
  pids: Pids,
): Promise<Run> {
  const api = { url };
  // Warm-up: every worker process answers (jobs processed end to end), and the server's and workers'
  // code runs optimised by V8, as in processes that have run for a while, before anything is measured
  // (fresh worker processes spent 15–60% more CPU per order in the burst: BENCHMARKS.md, session 18;
  // after 500 orders per process the first run of each size, with a server started for that size,
  // still spent ~2× the server CPU per order of the second and ~30% more in the worker: session 20).
  const warm = Array.from({ length: warmPerProcess * k }, make);
  const warmed = await sendAll(`${api.url}/webhooks/shopify`, warm, {
    concurrency: 16,
    maxMs: 120_000,
  });
  if (!warmed.some((s) => s.status === 200)) {
    throw new Error(
      `warm-up deliveries were refused: ${[...new Set(warmed.map((s) => s.status))].join(', ')}`,
    );
  }
  for (const d of warm) watcher.watch(d.orderId);
  await watcher.waitAll(
    warm.map((d) => d.orderId),
    300_000,
  );

  // Idle: one delivery at a time, each waited for.
  const idle: number[] = [];
  for (let i = 0; i < idleCount; i++) {
    const d = make();
    const [sent] = await sendAll(`${api.url}/webhooks/shopify`, [d], {
      concurrency: 1,
      maxMs: 10_000,
    });
    watcher.watch(d.orderId);
    if (sent?.status === 200 && (await watcher.waitAll([d.orderId], 10_000))) {
      idle.push((watcher.seenAt.get(d.orderId) ?? Number.NaN) - sent.ackAt);
    }
    await sleep(100);
  }

  // Burst: `burst` deliveries as fast as the server takes them; orders/s to the last visible.
  const deliveries = Array.from({ length: burst }, make);
  const cpu = measureCpuSpent({ server: [pids.server], workers: pids.workers });
  const t0 = performance.now();
  const sent = await sendAll(`${api.url}/webhooks/shopify`, deliveries, {
    concurrency: 16,
    maxMs: 120_000,
    onSent: (s) => watcher.watch(s.id),
  });
  const ids = sent.filter((s) => s.status === 200).map((s) => s.id);
  await watcher.waitAll(ids, 300_000);
  const last = Math.max(...ids.map((id) => watcher.seenAt.get(id) ?? 0));
  const burstCpu = cpu(last);
  const burstSeconds = (last - t0) / 1000;
  const ordersPerSecond = ids.filter((id) => watcher.seenAt.has(id)).length / burstSeconds;

  // Under load: a steady rate at ~60% of the burst throughput.
  const loadRate = Math.max(1, Math.round(ordersPerSecond * 0.6));
  const steady = Array.from({ length: loadRate * loadSeconds }, make);
  const sentSteady = await sendAll(`${api.url}/webhooks/shopify`, steady, {
    concurrency: 16,
    rate: loadRate,
    maxMs: (loadSeconds + 30) * 1000,
    onSent: (s) => watcher.watch(s.id),
  });
  const okSteady = sentSteady.filter((s) => s.status === 200);
  await watcher.waitAll(
    okSteady.map((s) => s.id),
    120_000,
  );
  const loaded = okSteady.flatMap((s) => {
    const seen = watcher.seenAt.get(s.id);
    return seen === undefined ? [] : [seen - s.ackAt];
  });
  const missing = ids.filter((id) => !watcher.seenAt.has(id)).length + okSteady.length - loaded.length;
  return {
    contacts: size,
    workers: k,
    idle,
    burstOrders: ids.length,
    burstSeconds,
    ordersPerSecond,
    loaded,
    loadRate,
    missing,
    burstCpu,
  };
}

/** The section's text: setup, the table of runs, and what the database holds afterwards. */
async function report(
  db: BenchDatabase,
  runs: Run[],
  sizes: number[],
  { warmPerProcess, idleCount, burst, loadSeconds }: Shape,
  concurrency: number,
  loadTimes: number[],
  command: string,
): Promise<string> {
  const [counts] = await db.sql<{ orders: number; dup: number; reviews: number; contacts: number }[]>`
    select (select count(*)::int from orders) as orders,
           (select count(*)::int from (select 1 from orders group by workspace_id, shopify_order_id having count(*) > 1) d) as dup,
           (select count(*)::int from contact_reviews) as reviews,
           (select count(*)::int from contacts) as contacts`;
  const [failed] = await db.sql<{ n: number }[]>`
    select count(*)::int as n from webhook_events where status = 'failed'`;
  const table = markdownTable(
    [
      'contacts',
      'worker processes',
      'burst orders',
      'orders/s (burst)',
      'ack→visible idle p50 / p99 (ms)',
      'steady load (orders/s)',
      'ack→visible loaded p50 / p99 (ms)',
      'not visible',
    ],
    runs.map((r) => [
      r.contacts.toLocaleString('en-US'),
      `${r.workers} × WORKER_CONCURRENCY=${concurrency}`,
      String(r.burstOrders),
      fmt(r.ordersPerSecond),
      `${fmt(median(r.idle), 0)} / ${fmt(percentile(r.idle, 99), 0)}`,
      String(r.loadRate),
      `${fmt(median(r.loaded), 0)} / ${fmt(percentile(r.loaded, 99), 0)}`,
      String(r.missing),
    ]),
  );
  const perOrder = (r: Run, ms: number) => fmt(ms / r.burstOrders, 2);
  const cpuTable = markdownTable(
    [
      'contacts',
      'worker processes',
      'server (ingest)',
      'worker processes',
      'PostgreSQL',
      'bench (sender, watcher)',
      'all of the machine',
      'machine busy',
    ],
    runs.map((r) => {
      const c = r.burstCpu;
      return [
        r.contacts.toLocaleString('en-US'),
        String(r.workers),
        perOrder(r, c.parties.server ?? 0),
        perOrder(r, c.parties.workers ?? 0),
        perOrder(r, c.postgres),
        perOrder(r, c.bench),
        perOrder(r, c.machine),
        `${fmt((100 * c.machine) / c.wallMs / availableParallelism(), 0)}%`,
      ];
    }),
  );
  const oneAt = (size: number | undefined) =>
    runs.find((r) => r.contacts === size && r.workers === 1)?.ordersPerSecond ?? Number.NaN;
  const smallest = sizes[0];
  const largest = sizes[sizes.length - 1];
  const body = [
    stamp(command),
    '',
    `Workspace with ${sizes.map((n) => n.toLocaleString('en-US')).join(', then ')} generated contacts ` +
      `(loaded in SQL in ${loadTimes.map((t) => `${fmt(t, 0)} s`).join(', ')}) and 1,000 products ` +
      '(SKU matching, fuzzy matching on, auto-create on). Orders: 40% returning customers (known phone), 10% ' +
      'misspelt names with new phones (fuzzy candidates → reviews), 50% new customers; 1–3 lines, 5% unknown ' +
      'SKUs. Server with WORKER_CONCURRENCY=0; worker processes started as `npm run worker` does, then warmed ' +
      `with ${warmPerProcess} orders per worker process (not measured). The burst is ` +
      `${burst} deliveries over 16 connections (orders/s = visible orders / time from the first send to the last ` +
      `visible); idle = ${idleCount} single deliveries 100 ms apart; loaded = a steady rate at ~60% of the burst ` +
      `rate for ${loadSeconds} s. Visibility polled every 20 ms (±10 ms).`,
    '',
    table,
    '',
    `CPU per order during the burst, in ms (from /proc, first send to last order seen; PostgreSQL = every ` +
      `postgres process, autovacuum included; "all of the machine" = busy time of its ${availableParallelism()} cores, ` +
      `the kernel included; the bench's watcher polls the orders table):`,
    '',
    cpuTable,
    '',
    `- Per-order cost with one worker process, ${smallest?.toLocaleString('en-US')} → ${largest?.toLocaleString('en-US')} contacts: ` +
      `${fmt(oneAt(smallest) / oneAt(largest), 2)}× (orders/s ${fmt(oneAt(smallest))} → ${fmt(oneAt(largest))}).`,
    `- Two processes: ${sizes.map((n) => `${fmt((runs.find((r) => r.contacts === n && r.workers === 2)?.ordersPerSecond ?? Number.NaN) / oneAt(n), 2)}×`).join(', ')} of one, per size.`,
    `- Afterwards: ${counts?.orders ?? 0} orders, ${counts?.dup ?? 0} duplicated Shopify ids, ` +
      `${counts?.reviews ?? 0} contact reviews, ${failed?.n ?? 0} failed events.`,
  ].join('\n');
  return body;
}

export async function processingSection(options: BenchOptions): Promise<SectionReport> {
  const workerCounts = [1, 2];
  const sizes = process.env.BENCH_PROCESSING_SIZES
    ? process.env.BENCH_PROCESSING_SIZES.split(',').map(Number)
    : options.quick
      ? [10_000, options.processingContacts]
      : [10_000, options.processingContacts, 1_000_000];
  const concurrency = Number(process.env.BENCH_WORKER_CONCURRENCY ?? DEFAULT_WORKER_CONCURRENCY);
  const warmPerProcess = Number(process.env.BENCH_PROCESSING_WARMUP ?? (options.quick ? 500 : 2000));
  const idleCount = options.quick ? 20 : 50;
  const burst = options.quick ? 400 : 1000;
  const loadSeconds = options.quick ? 10 : 20;
  const db = await createBenchDatabase('processing');
  const runs: Run[] = [];
  let runTag = 1;
  const loadTimes: number[] = [];
  try {
    await generateProducts(db.sql, db.workspaceId, 1000);
    let loaded = 0;
    for (const size of sizes) {
      const t0 = performance.now();
      await generateContacts(db.sql, db.workspaceId, size - loaded);
      loaded = size;
      loadTimes.push((performance.now() - t0) / 1000);
      console.log(`  ${size.toLocaleString('en-US')} contacts loaded in ${fmt(loadTimes.at(-1) ?? 0)} s`);
      const api = await startApi({ databaseUrl: db.url, keyText: db.keyText, workerConcurrency: 0 });
      const watcher = new VisibilityWatcher(db.sql, db.workspaceId);
      try {
        for (const k of workerCounts) {
          runTag += 1;
          const random = rng(100 + k);
          let n = 0;
          const make = (): Prepared & { orderId: string } => {
            n += 1;
            const spec = randomOrder(random, n, runTag, size, 1000);
            const body = orderPayload(spec);
            const headers = signedHeaders(body, { webhookId: `proc-${runTag}-${n}` });
            return { id: spec.orderId, orderId: spec.orderId, body, headers };
          };
          const workers: AppProcess[] = [];
          for (let i = 0; i < k; i++) {
            workers.push(
              await startWorker({ databaseUrl: db.url, keyText: db.keyText, workerConcurrency: concurrency }),
            );
          }
          try {
            const run = await measure(
              api.url,
              watcher,
              make,
              { warmPerProcess, idleCount, burst, loadSeconds },
              size,
              k,
              {
                server: api.pid,
                workers: workers.map((w) => w.pid),
              },
            );
            runs.push(run);
            const { ordersPerSecond, idle, loadRate, loaded } = run;
            console.log(
              `  ${size} contacts, ${k} worker process(es): ${fmt(ordersPerSecond)} orders/s; idle p50 ${fmt(median(idle), 0)} ms; ` +
                `at ${loadRate}/s p50 ${fmt(median(loaded), 0)} ms p99 ${fmt(percentile(loaded, 99), 0)} ms`,
            );
          } finally {
            for (const w of workers) await w.stop();
          }
        }
      } finally {
        await watcher.stop();
        await api.stop();
      }
    }
    const body = await report(
      db,
      runs,
      sizes,
      { warmPerProcess, idleCount, burst, loadSeconds },
      concurrency,
      loadTimes,
      options.command,
    );
    return { name: 'processing', title: 'Processing (ack → order visible)', body };
  } finally {
    await db.drop();
  }
}
