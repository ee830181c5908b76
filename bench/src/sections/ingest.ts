/**
 * Webhook ingest: signed orders/create deliveries with unique webhook ids against the real server
 * (`npm start`'s main.ts, no in-process workers unless stated), at a fixed 200 req/s and at
 * saturation with 16 and 64 connections; the ratio to pgbench's single-row insert-commit rate with the
 * same client counts, in the same run (before and after the server's runs); and "0 lost": every 200
 * has its webhook_events row and its job.
 */
import { startApi, startWebhookFloor } from '../lib/app.ts';
import { type CpuShare, measureCpu } from '../lib/cpu.ts';
import { type BenchDatabase, createBenchDatabase } from '../lib/db.ts';
import { type LoadResult, webhookLoad } from '../lib/load.ts';
import { ingestOpsEnv } from '../lib/ops.ts';
import type { BenchOptions } from '../lib/options.ts';
import { pgbenchInsertTps, pgbenchWebhookTxTps } from '../lib/pgbench.ts';
import { type SectionReport, stamp } from '../lib/report.ts';
import { fmt, markdownTable, pct, rng } from '../lib/stats.ts';
import { orderPayload, randomOrder, signedHeaders } from '../lib/webhooks.ts';

type Row = { label: string; sent: number; ok: number; other: string; rps: number; p50: number; p99: number };

const cores = (share: number) => `${fmt(share, 2)} core`;

/** Where the CPU went at saturation, against the Node floor (the route with no database) when given. */
function cpuNotes(
  connections: number,
  app: CpuShare | null,
  floor: CpuShare | null,
  rps: number,
  floorRow: { rps: number; p50: number; p99: number } | null,
): string[] {
  if (!app) return [];
  const at = [
    `CPU at saturation with ${connections} connections (share of one core; the machine has 2): server ${cores(app.server)}, PostgreSQL ` +
      `${cores(app.postgres)}, load generator ${cores(app.loadGenerator)}; machine ${pct(app.machine)} busy. ` +
      `The server spends ${fmt((app.server * 1000) / rps, 2)} ms of CPU per delivery, PostgreSQL ` +
      `${fmt((app.postgres * 1000) / rps, 2)} ms, the load generator ${fmt((app.loadGenerator * 1000) / rps, 2)} ms.`,
  ];
  if (!floor || !floorRow) return at;
  return [
    ...at,
    `Node floor — the same route and process, its store in memory (no database; ` +
      `\`serveWebhookRouteWithoutDatabase\`), same load: **${fmt(floorRow.rps)} req/s**, p50 ${fmt(floorRow.p50, 0)} ms, ` +
      `p99 ${fmt(floorRow.p99, 0)} ms; server ${cores(floor.server)} (${fmt((floor.server * 1000) / floorRow.rps, 2)} ms ` +
      `per delivery), load generator ${cores(floor.loadGenerator)}, machine ${pct(floor.machine)} busy. With the ` +
      `database the route reaches ${pct(rps / floorRow.rps)} of its own floor.`,
  ];
}

/** Connection counts of the saturation runs, the same as pgbench's client counts. */
function sweep(): number[] {
  const given = process.env.BENCH_INGEST_CONNECTIONS;
  const counts = (given ?? '16,64').split(',').map((n) => Number(n.trim()));
  if (counts.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`BENCH_INGEST_CONNECTIONS must be counts like 16,64 (got ${given})`);
  }
  return counts;
}

type Load = { body: Buffer; headers: Record<string, string> };

/** What the runs against the server recorded. */
type Runs = {
  rows: Row[];
  /** webhook id → status, over every run. */
  statuses: Map<string, number>;
  cpuAtSaturation: Map<number, CpuShare>;
  saturationRps: Map<number, number>;
};

/** Records one load's row and statuses. */
function recordLoad(runs: Runs, label: string, r: LoadResult): void {
  for (const [id, s] of r.statuses) runs.statuses.set(id, s);
  const ok = [...r.statuses.values()].filter((s) => s === 200).length;
  const other = Object.entries(r.result.statusCodeStats)
    .filter(([code]) => code !== '200')
    .map(([code, v]) => `${code}×${v.count}`)
    .concat(r.result.errors ? [`errors×${r.result.errors}`] : [])
    .join(', ');
  runs.rows.push({ label, sent: r.sent, ok, other: other || '—', rps: r.throughput, p50: r.p50, p99: r.p99 });
  console.log(`  ${label}: ${fmt(r.throughput)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${ok}/${r.sent} ok`);
}

/** The server (no workers): warm-up, the fixed rate, then saturation at each connection count. */
async function serverRuns(
  db: BenchDatabase,
  load: Load,
  counts: number[],
  sizes: { fixedSeconds: number; saturationAmount: number },
): Promise<Runs> {
  const runs: Runs = { rows: [], statuses: new Map(), cpuAtSaturation: new Map(), saturationRps: new Map() };
  const connections = counts[0] ?? 16;
  const api = await startApi({
    databaseUrl: db.url,
    keyText: db.keyText,
    workerConcurrency: 0,
    extra: ingestOpsEnv(),
  });
  try {
    const url = api.url;
    // Warm-up: JIT, pools, caches.
    await webhookLoad({ url, ...load, idPrefix: 'warm', amount: 1000, connections, maxSeconds: 30 }).then(
      (r) => recordLoad(runs, 'warm-up (not counted)', r),
    );
    runs.rows.pop();
    const { fixedSeconds, saturationAmount } = sizes;
    recordLoad(
      runs,
      `200 req/s for ${fixedSeconds} s`,
      await webhookLoad({
        url,
        ...load,
        idPrefix: 'fixed',
        amount: 200 * fixedSeconds,
        connections,
        rate: 200,
        maxSeconds: fixedSeconds + 20,
      }),
    );
    for (const n of counts) {
      const cpu = measureCpu(api.pid);
      const saturation = await webhookLoad({
        url,
        ...load,
        idPrefix: `sat${n}`,
        amount: saturationAmount,
        connections: n,
        maxSeconds: 120,
      });
      runs.cpuAtSaturation.set(n, cpu(saturation.endedAt));
      runs.saturationRps.set(n, saturation.throughput);
      recordLoad(runs, `saturation, ${n} connections`, saturation);
    }
  } finally {
    await api.stop();
  }
  return runs;
}

type FloorRun = { cpu: CpuShare; row: { rps: number; p50: number; p99: number } };

/** The Node floor: the same route in the same kind of process, its store in memory (no database). */
async function floorRun(load: Load, connections: number, amount: number): Promise<FloorRun> {
  const floor = await startWebhookFloor();
  try {
    const run = (idPrefix: string) =>
      webhookLoad({ url: floor.url, ...load, idPrefix, amount, connections, maxSeconds: 120 });
    await run('floorwarm');
    const cpu = measureCpu(floor.pid);
    const r = await run('floor');
    console.log(`  Node floor (no database): ${fmt(r.throughput)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms`);
    return { cpu: cpu(r.endedAt), row: { rps: r.throughput, p50: r.p50, p99: r.p99 } };
  } finally {
    await floor.stop();
  }
}

/** What the database holds after the runs: "0 lost", rows, jobs, and deliveries per transaction. */
async function storedFacts(db: BenchDatabase, statuses: Map<string, number>) {
  const acked = [...statuses.entries()].filter(([, s]) => s === 200).map(([id]) => id);
  const stored = new Set(
    (await db.sql<{ external_id: string }[]>`select external_id from webhook_events`).map(
      (r) => r.external_id,
    ),
  );
  const lost = acked.filter((id) => !stored.has(id)).length;
  // A stored event is queued as it is (pending): no job beside it.
  const [jobs] = await db.sql<{ n: number }[]>`
    select count(*)::int as n from webhook_events where status = 'pending'`;
  const [events] = await db.sql<{ n: number }[]>`select count(*)::int as n from webhook_events`;
  // How many deliveries shared a transaction (group commit): events per distinct inserting xid.
  const grouping = await db.sql<{ load: string; events: number; transactions: number; largest: number }[]>`
    with t as (
      select split_part(external_id, '-', 1) as load, xmin::text as tx, count(*)::int as n
      from webhook_events group by 1, 2)
    select load, sum(n)::int as events, count(*)::int as transactions, max(n)::int as largest
    from t group by load order by load`;
  return { acked: acked.length, lost, jobs: jobs?.n ?? 0, events: events?.n ?? 0, grouping };
}

type Facts = Awaited<ReturnType<typeof storedFacts>>;

/** The section's sentences below its tables. */
function ingestNotes(
  counts: number[],
  runs: Runs,
  floor: FloorRun,
  pgbench: {
    before: Map<number, number>;
    after: Map<number, number>;
    webhookTx: number;
    payloadBytes: number;
  },
  facts: Facts,
): string[] {
  const connections = counts[0] ?? 16;
  const mean = (n: number) => ((pgbench.before.get(n) ?? 0) + (pgbench.after.get(n) ?? 0)) / 2;
  const single = mean(connections);
  const best = (values: number[]) => Math.max(...values);
  const bestRoute = best(counts.map((n) => runs.saturationRps.get(n) ?? 0));
  const bestPgbench = best(counts.map(mean));
  const saturation = runs.rows.find((r) => r.label === `saturation, ${connections} connections`);
  const fixed = runs.rows.find((r) => r.label.startsWith('200'));
  const ratio = saturation ? saturation.rps / single : Number.NaN;
  const { webhookTx } = pgbench;
  return [
    `pgbench single-row insert-commit, ${connections} clients, same ~${Math.round(pgbench.payloadBytes / 100) / 10} KB payload: ` +
      `${fmt(pgbench.before.get(connections) ?? Number.NaN)} tps before, ${fmt(pgbench.after.get(connections) ?? Number.NaN)} tps after → **${fmt(single)} tps**.`,
    `Saturation throughput / pgbench at ${connections} connections and clients = **${pct(ratio)}**; ` +
      `the best of each over ${counts.join(' and ')}: ${fmt(bestRoute)} req/s / ${fmt(bestPgbench)} tps = ` +
      `**${pct(bestRoute / bestPgbench)}** (goal ≥ 50% at each count).`,
    `Deliveries per transaction (group commit, counted from the events' inserting transaction ids): ${facts.grouping
      .filter((g) => g.load === 'fixed' || g.load.startsWith('sat'))
      .map(
        (g) =>
          `${g.load.startsWith('sat') ? `saturation, ${g.load.slice(3)} connections` : '200 req/s'}: ${g.events} events in ${g.transactions} transactions ` +
          `(mean ${fmt(g.events / Math.max(1, g.transactions), 1)}, largest ${g.largest})`,
      )
      .join('; ')}.`,
    `For comparison, one delivery per transaction without group commit (begin, role switch, ` +
      'integration lookup, act for the workspace, insert the event row — no job, no NOTIFY, as the ack now — commit) replayed by pgbench ' +
      `with ${connections} clients: ${fmt(webhookTx)} tps = ${pct(webhookTx / single)} of the single-insert rate; ` +
      `the server reaches ${pct(saturation ? saturation.rps / webhookTx : Number.NaN)} of it.`,
    ...counts.flatMap((n) =>
      cpuNotes(
        n,
        runs.cpuAtSaturation.get(n) ?? null,
        n === connections ? floor.cpu : null,
        runs.saturationRps.get(n) ?? Number.NaN,
        n === connections ? floor.row : null,
      ),
    ),
    `p99 ack at 200 req/s = **${fixed ? fmt(fixed.p99, 0) : '—'} ms** (goal < 50 ms).`,
    `Lost: **${facts.lost}** of ${facts.acked} acked deliveries have no webhook_events row ` +
      `(${facts.events} rows, ${facts.jobs} queued).`,
  ];
}

/** The two tables: every load, then the saturation sweep against pgbench. */
function ingestTables(counts: number[], runs: Runs, before: Map<number, number>, after: Map<number, number>) {
  const mean = (n: number) => ((before.get(n) ?? 0) + (after.get(n) ?? 0)) / 2;
  const sweepTable = markdownTable(
    ['connections = pgbench clients', 'route at saturation (req/s)', 'pgbench before / after (tps)', 'ratio'],
    counts.map((n) => [
      String(n),
      fmt(runs.saturationRps.get(n) ?? Number.NaN),
      `${fmt(before.get(n) ?? Number.NaN)} / ${fmt(after.get(n) ?? Number.NaN)}`,
      pct((runs.saturationRps.get(n) ?? Number.NaN) / mean(n)),
    ]),
  );
  const table = markdownTable(
    ['load', 'requests', '200', 'other', 'throughput (req/s)', 'p50 ack (ms)', 'p99 ack (ms)'],
    runs.rows.map((r) => [
      r.label,
      String(r.sent),
      String(r.ok),
      r.other,
      fmt(r.rps),
      fmt(r.p50, 0),
      fmt(r.p99, 0),
    ]),
  );
  return { table, sweepTable };
}

export async function ingestSection(options: BenchOptions): Promise<SectionReport> {
  const counts = sweep();
  const connections = counts[0] ?? 16;
  const saturationAmount = options.quick ? 15000 : 40000;
  const pgbenchSeconds = options.quick ? 8 : 15;
  const db = await createBenchDatabase('ingest');
  try {
    const body = orderPayload(randomOrder(rng(7), 1, 1, 0, 5));
    const load: Load = { body, headers: signedHeaders(body) };
    const pgbenchAt = async (clients: number) => {
      const tps = await pgbenchInsertTps(db.sql, db.url, {
        clients,
        seconds: pgbenchSeconds,
        payload: body.toString('utf8'),
      });
      console.log(`  pgbench insert-commit (${clients} clients): ${fmt(tps)} tps`);
      return tps;
    };
    const before = new Map<number, number>();
    for (const n of counts) before.set(n, await pgbenchAt(n));
    const runs = await serverRuns(db, load, counts, {
      fixedSeconds: options.quick ? 10 : 30,
      saturationAmount,
    });
    const floor = await floorRun(load, connections, saturationAmount);
    const after = new Map<number, number>();
    for (const n of counts) after.set(n, await pgbenchAt(n));
    const facts = await storedFacts(db, runs.statuses);

    const [integration] = await db.sql<{ id: string }[]>`select id from integrations limit 1`;
    const webhookTx = await pgbenchWebhookTxTps(db.sql, db.url, {
      clients: connections,
      seconds: pgbenchSeconds,
      payload: body.toString('utf8'),
      workspaceId: db.workspaceId,
      integrationId: integration?.id ?? '',
      enqueue: 'none', // the route's ack stores the event row only (webhook_events is the queue)
    });
    console.log(
      `  pgbench webhook transaction, event row only (${connections} clients): ${fmt(webhookTx)} tps`,
    );

    const notes = ingestNotes(
      counts,
      runs,
      floor,
      { before, after, webhookTx, payloadBytes: body.length },
      facts,
    );
    const { table, sweepTable } = ingestTables(counts, runs, before, after);
    const text = [
      stamp(options.command),
      '',
      `Server: \`apps/api/src/main.ts\` (as \`npm start\`), DATABASE_URL on the local PostgreSQL, ` +
        `WORKER_CONCURRENCY=0 (ingest only), ${process.env.BENCH_INGEST_OPS === 'on' ? 'LOG_LEVEL=info and METRICS_ENABLED=true (BENCH_INGEST_OPS=on)' : 'LOG_LEVEL=silent'}, DB_POOL_SIZE default (20). Load: autocannon 8 ` +
        `in the bench process, ${counts.join(' or ')} keep-alive connections, one orders/create body (` +
        `${body.length} bytes) signed once, a unique X-Shopify-Webhook-Id per request. Latencies are ` +
        "autocannon's (coordinated-omission corrected at the fixed rate).",
      '',
      table,
      '',
      sweepTable,
      '',
      ...notes.map((n) => `- ${n}`),
    ].join('\n');
    return { name: 'ingest', title: 'Webhook ingest', body: text };
  } finally {
    await db.drop();
  }
}
