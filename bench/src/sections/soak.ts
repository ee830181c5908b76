/**
 * Soak: deliveries with 10% duplicates (half of them sent at the same time as the original) and 5%
 * forged signatures into the real server with `npm run worker` processes that are SIGKILLed at random
 * and replaced, while PostgreSQL — a private embedded cluster in a temporary folder, never the
 * machine's shared one — is restarted once. Senders retry 503s and lost connections like Shopify.
 * Afterwards: every acked delivery processed — with no operator step: the jobs a killed worker held
 * must be released by the other runners (apps/api/src/jobs/liveness.ts) — no Shopify order twice, no
 * forged event stored, and no live runner ever taken for dead. Measured from the database: when each
 * killed runner's record (job_runners.processes) goes, which its release takes with it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSql, type EmbeddedDatabase, type Sql, startEmbeddedPostgres } from '@crm/db';
import { freePort } from '@crm/db/testing';
import { type AppProcess, startApi, startWorker } from '../lib/app.ts';
import { createBenchDatabase } from '../lib/db.ts';
import type { BenchOptions } from '../lib/options.ts';
import { type SectionReport, writeSection } from '../lib/report.ts';
import { type Prepared, type Sent, sendAll } from '../lib/sender.ts';
import { fmt, rng, sleep } from '../lib/stats.ts';
import { orderPayload, randomOrder, signedHeaders } from '../lib/webhooks.ts';
import { answersOf, type Kill, releaseLine, releaseTimes, soakReport } from './soak-report.ts';

type Delivery = Prepared & { orderId: string | null; forged: boolean; duplicate: boolean };

type Log = (what: string) => void;

const WORKER_COUNT = 2;
const CONCURRENCY = 2;

// The job queue's tables, read in these two functions only.

/** A dead worker's runner record and the events it leased and jobs its pools held (none: it had written no record). */
async function runnerOf(admin: Sql, pid: number): Promise<{ id: string; held: number } | undefined> {
  const [row] = await admin<{ id: string; held: number }[]>`
    select p.id, (select count(*)::int from webhook_events e
                  where e.status = 'pending' and e.locked_by like 'crm-events-' || p.pid || '-%')
                 + (select count(*)::int from graphile_worker._private_jobs j
                    where j.locked_by = any(p.pool_ids)) as held
    from job_runners.processes p where p.pid = ${pid}`;
  return row;
}

/** Jobs locked by some runner, and webhook events leased by some worker (at the end of the run: none should be). */
async function lockedJobs(admin: Sql): Promise<number> {
  const [row] = await admin<{ n: number }[]>`
    select (select count(*) from graphile_worker._private_jobs where locked_by is not null)::int
         + (select count(*) from webhook_events where locked_by is not null)::int as n`;
  return row?.n ?? 0;
}

/** Unique orders, then 10% duplicates (half right after the original) and 5% forged mixed in. */
function soakDeliveries(total: number, random: () => number): Delivery[] {
  const uniques = Math.round(total / 1.15);
  const list: Delivery[] = [];
  for (let n = 1; n <= uniques; n++) {
    const spec = randomOrder(random, n, 77, 0, 5);
    spec.skus = spec.skus.map((_, i) => ['SRM-VITC-30', 'CRM-HID-50', 'PRT-SOL-50'][i % 3] ?? 'SRM-VITC-30');
    const body = orderPayload(spec);
    list.push({
      id: `soak-${n}`,
      body,
      headers: signedHeaders(body, { webhookId: `soak-${n}` }),
      orderId: spec.orderId,
      forged: false,
      duplicate: false,
    });
  }
  const withExtras: Delivery[] = [];
  for (const d of list) {
    withExtras.push(d);
    const r = random();
    if (r < 0.1 * 1.15) {
      // A duplicate, right after (likely concurrent) or later in the stream.
      const dup = { ...d, duplicate: true };
      if (random() < 0.5) withExtras.push(dup);
      else withExtras.splice(Math.floor(random() * withExtras.length), 0, dup);
    } else if (r < 0.15 * 1.15) {
      const body = orderPayload(randomOrder(random, 900_000 + withExtras.length, 78, 0, 5));
      const id = `forged-${withExtras.length}`;
      withExtras.push({
        id,
        body,
        headers: signedHeaders(body, { webhookId: id, secret: 'not-the-secret' }),
        orderId: null,
        forged: true,
        duplicate: false,
      });
    }
  }
  return withExtras.slice(0, total);
}

/**
 * Watches the runner records twice a second: when a killed runner's record goes (its release), and
 * whether a live runner's ever goes or is written anew (a live runner taken for dead).
 */
function watchRunners(admin: Sql) {
  const killed: Kill[] = [];
  const killedPids = new Set<number>();
  const liveStarts = new Map<string, { pid: number; started: number }>();
  const takenForDead = new Set<string>();
  let monitoring = true;
  const poll = async () => {
    let rows: { id: string; pid: number; started: number }[];
    try {
      rows = await admin<{ id: string; pid: number; started: number }[]>`
        select id, pid, extract(epoch from started_at)::float8 as started from job_runners.processes`;
    } catch {
      return; // PostgreSQL is restarting
    }
    const now = performance.now();
    const ids = new Map(rows.map((r) => [r.id, r]));
    for (const k of killed)
      if (k.runnerId && k.releasedAfterMs === null && !ids.has(k.runnerId)) k.releasedAfterMs = now - k.at;
    for (const [id, seen] of liveStarts) {
      if (killedPids.has(seen.pid)) {
        liveStarts.delete(id);
        continue;
      }
      const row = ids.get(id);
      if (!row || row.started !== seen.started) takenForDead.add(id);
    }
    for (const r of rows) if (!killedPids.has(r.pid) && !liveStarts.has(r.id)) liveStarts.set(r.id, r);
  };
  const loop = (async () => {
    while (monitoring) {
      await sleep(500);
      await poll();
    }
  })();
  return {
    killed,
    takenForDead,
    /** Records a SIGKILLed worker (before its replacement starts) and returns its entry. */
    kill(pid: number): Kill {
      const kill: Kill = { pid, at: performance.now(), runnerId: null, heldJobs: 0, releasedAfterMs: null };
      killed.push(kill);
      killedPids.add(pid);
      return kill;
    },
    async stop() {
      monitoring = false;
      await loop;
    },
  };
}
type Watch = ReturnType<typeof watchRunners>;

/**
 * Every 2–6 s one worker is SIGKILLed and replaced; once 40% of the deliveries are answered,
 * PostgreSQL is stopped for 3 s (`restartPostgres`). Returns how to stop it and what it did.
 */
function startChaos(args: {
  workers: AppProcess[];
  env: Parameters<typeof startWorker>[0];
  admin: Sql;
  watch: Watch;
  random: () => number;
  restartDue: () => boolean;
  restartPostgres: () => Promise<void>;
}) {
  const { workers, random, watch } = args;
  const state = { kills: 0, restarted: false };
  let running = true;
  const loop = (async () => {
    while (running) {
      await sleep(2000 + random() * 4000);
      if (!running) break;
      const i = Math.floor(random() * workers.length);
      const victim = workers[i];
      if (victim) {
        await victim.kill();
        state.kills += 1;
        const kill = watch.kill(victim.pid);
        workers[i] = await startWorker(args.env);
        try {
          const row = await runnerOf(args.admin, victim.pid);
          kill.runnerId = row?.id ?? null;
          kill.heldJobs = row?.held ?? 0;
        } catch {
          // The database is restarting: this kill is left out of the release times.
        }
      }
      if (!state.restarted && args.restartDue()) {
        state.restarted = true;
        await args.restartPostgres();
      }
    }
  })();
  return {
    state,
    async stop() {
      running = false;
      await loop;
    },
  };
}

/**
 * Recovery with no operator step: waits while the acked backlog drains (until none is pending, the
 * bound passes without progress, or 20 min), then for every killed runner's record to go (30 s at
 * most). Returns what was still pending and how many jobs were still locked.
 */
async function awaitRecovery(sql: Sql, admin: Sql, ackedIds: string[], watch: Watch, log: Log) {
  // How long without progress before giving up (a dead runner's jobs are released within ~20 s).
  const waitBound = Number(process.env.BENCH_SOAK_WAIT_SECONDS ?? 45) * 1000;
  const pendingCount = async () => {
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from webhook_events where status = 'pending' and external_id = any(${ackedIds}::text[])`;
    return row?.n ?? 0;
  };
  const hardDeadline = performance.now() + 20 * 60_000;
  let pendingAfter = await pendingCount();
  let lastProgress = performance.now();
  while (
    pendingAfter > 0 &&
    performance.now() - lastProgress < waitBound &&
    performance.now() < hardDeadline
  ) {
    await sleep(1000);
    const m = await pendingCount();
    if (m < pendingAfter) lastProgress = performance.now();
    pendingAfter = m;
  }
  log(`pending once the backlog drained (or stopped draining for ${waitBound / 1000} s): ${pendingAfter}`);
  const releaseDeadline = performance.now() + 30_000;
  while (
    watch.killed.some((k) => k.runnerId && k.releasedAfterMs === null) &&
    performance.now() < releaseDeadline
  )
    await sleep(500);
  await watch.stop();
  return { pendingAfter, lockedAtEnd: await lockedJobs(admin) };
}

/** What the database holds at the end, against what was acked. */
async function soakOutcome(admin: Sql, ackedIds: string[], byId: Map<string, Delivery>) {
  const [stats] = await admin<
    { events: number; processed: number; failed: number; forged: number; orders: number; dup: number }[]
  >`
    select (select count(*)::int from webhook_events) as events,
           (select count(*)::int from webhook_events where status = 'processed') as processed,
           (select count(*)::int from webhook_events where status = 'failed') as failed,
           (select count(*)::int from webhook_events where external_id like 'forged-%') as forged,
           (select count(*)::int from orders) as orders,
           (select count(*)::int from (select 1 from orders group by workspace_id, shopify_order_id
                                       having count(*) > 1) d) as dup`;
  const ackedNotProcessed = await admin<{ external_id: string; status: string; last_error: string | null }[]>`
    select external_id, status, last_error from webhook_events
    where external_id = any(${ackedIds}::text[]) and status <> 'processed'`;
  const [storedAcked] = await admin<{ n: number }[]>`
    select count(*)::int as n from webhook_events where external_id = any(${ackedIds}::text[])`;
  const ackedOrders = new Set(ackedIds.map((id) => byId.get(id)?.orderId).filter((o): o is string => !!o));
  const [orderRows] = await admin<{ n: number }[]>`
    select count(distinct shopify_order_id)::int as n from orders where shopify_order_id::text = any(${[...ackedOrders]}::text[])`;
  return {
    events: stats?.events ?? 0,
    processed: stats?.processed ?? 0,
    failed: stats?.failed ?? 0,
    forged: stats?.forged ?? 0,
    dup: stats?.dup ?? 0,
    ackedNotProcessed,
    ackedMissing: ackedIds.length - (storedAcked?.n ?? 0),
    ackedOrders: ackedOrders.size,
    ordersInCrm: orderRows?.n ?? 0,
  };
}

export async function soakSection(options: BenchOptions): Promise<SectionReport> {
  const total = Number(process.env.BENCH_SOAK_DELIVERIES ?? (options.quick ? 3000 : 20000));
  const dir = await mkdtemp(join(tmpdir(), 'crm-bench-soak-'));
  const port = await freePort();
  let pg: EmbeddedDatabase = await startEmbeddedPostgres({ dataDir: dir, port });
  const db = await createBenchDatabase('soak', { admin: pg.adminUrl });
  const random = rng(31337);
  const timeline: string[] = [];
  const t0 = performance.now();
  const log: Log = (what) => {
    const line = `${fmt((performance.now() - t0) / 1000, 1)} s: ${what}`;
    timeline.push(line);
    console.log(`  ${line}`);
  };
  try {
    const deliveries = soakDeliveries(total, random);
    const byId = new Map(deliveries.map((d) => [d.id, d]));
    const env = { databaseUrl: db.url, keyText: db.keyText, workerConcurrency: CONCURRENCY };
    const api = await startApi({ ...env, workerConcurrency: 0 });
    const workers: AppProcess[] = [];
    for (let i = 0; i < WORKER_COUNT; i++) workers.push(await startWorker(env));
    const admin = createSql(db.url, { max: 2 });
    const watch = watchRunners(admin);
    let sentCount = 0;
    const chaos = startChaos({
      workers,
      env,
      admin,
      watch,
      random,
      restartDue: () => sentCount > deliveries.length * 0.4,
      restartPostgres: async () => {
        log(`restarting PostgreSQL (${sentCount} deliveries answered so far)`);
        await pg.stop();
        await sleep(3000);
        pg = await startEmbeddedPostgres({ dataDir: dir, port });
        log('PostgreSQL is back');
      },
    });
    const duplicates = deliveries.filter((d) => d.duplicate).length;
    const forged = deliveries.filter((d) => d.forged).length;
    log(`sending ${deliveries.length} deliveries (${duplicates} duplicates, ${forged} forged)`);
    const sent: Sent[] = await sendAll(`${api.url}/webhooks/shopify`, deliveries, {
      concurrency: 8,
      retries: 40,
      retryDelayMs: 500,
      maxMs: 30 * 60_000,
      onSent: () => {
        sentCount += 1;
      },
    });
    await chaos.stop();
    const { kills, restarted } = chaos.state;
    log(`sent; ${kills} workers SIGKILLed, PostgreSQL restarted: ${restarted}`);

    const ackedIds = [
      ...new Set(sent.filter((s) => s.status === 200 && !byId.get(s.id)?.forged).map((s) => s.id)),
    ];
    const { pendingAfter, lockedAtEnd } = await awaitRecovery(db.sql, admin, ackedIds, watch, log);
    const release = releaseTimes(watch.killed);
    log(releaseLine(release, watch.takenForDead.size, lockedAtEnd));
    for (const w of workers) await w.stop();
    await api.stop();
    const outcome = await soakOutcome(admin, ackedIds, byId);
    await admin.end();

    const { report, failures } = soakReport({
      command: options.command,
      port,
      workerCount: WORKER_COUNT,
      concurrency: CONCURRENCY,
      deliveries: deliveries.length,
      duplicates,
      forged,
      answers: answersOf(sent, (id) => !!byId.get(id)?.forged),
      retried: sent.filter((s) => s.tries > 1).length,
      kills,
      restarted,
      acked: ackedIds.length,
      pendingAfter,
      lockedAtEnd,
      takenForDead: watch.takenForDead.size,
      release,
      outcome,
      timeline,
    });
    if (failures.length > 0) {
      // Keep the evidence in BENCHMARKS.md, and fail the run.
      if (!options.dryRun) await writeSection(report);
      throw new Error(`soak check failed: ${failures.join('; ')}`);
    }
    return report;
  } finally {
    await db.drop().catch(() => {});
    await pg.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}
