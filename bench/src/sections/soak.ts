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
import { createSql, type EmbeddedDatabase, startEmbeddedPostgres } from '@crm/db';
import { freePort } from '@crm/db/testing';
import { type AppProcess, startApi, startWorker } from '../lib/app.ts';
import { createBenchDatabase } from '../lib/db.ts';
import type { BenchOptions } from '../lib/options.ts';
import { type SectionReport, stamp, writeSection } from '../lib/report.ts';
import { type Prepared, type Sent, sendAll } from '../lib/sender.ts';
import { fmt, markdownTable, percentile, rng, sleep } from '../lib/stats.ts';
import { orderPayload, randomOrder, signedHeaders } from '../lib/webhooks.ts';

type Delivery = Prepared & { orderId: string | null; forged: boolean; duplicate: boolean };

/** A SIGKILLed worker process: its runner record (if it had written one) and when that went. */
type Kill = {
  pid: number;
  at: number;
  runnerId: string | null;
  /** Jobs its pools held when it died: stranded until another runner releases them. */
  heldJobs: number;
  releasedAfterMs: number | null;
};

export async function soakSection(options: BenchOptions): Promise<SectionReport> {
  const total = Number(process.env.BENCH_SOAK_DELIVERIES ?? (options.quick ? 3000 : 20000));
  const workerCount = 2;
  const concurrency = 2;
  const dir = await mkdtemp(join(tmpdir(), 'crm-bench-soak-'));
  const port = await freePort();
  let pg: EmbeddedDatabase = await startEmbeddedPostgres({ dataDir: dir, port });
  const db = await createBenchDatabase('soak', { admin: pg.adminUrl });
  const random = rng(31337);
  const events: string[] = [];
  const t0 = performance.now();
  const log = (what: string) => {
    const line = `${fmt((performance.now() - t0) / 1000, 1)} s: ${what}`;
    events.push(line);
    console.log(`  ${line}`);
  };
  try {
    // The deliveries: unique orders, then 10% duplicates and 5% forged mixed in.
    const uniques = Math.round(total / 1.15);
    const list: Delivery[] = [];
    for (let n = 1; n <= uniques; n++) {
      const spec = randomOrder(random, n, 77, 0, 5);
      spec.skus = spec.skus.map(
        (_, i) => ['SRM-VITC-30', 'CRM-HID-50', 'PRT-SOL-50'][i % 3] ?? 'SRM-VITC-30',
      );
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
    const deliveries = withExtras.slice(0, total);
    const byId = new Map(deliveries.map((d) => [d.id, d]));

    const env = { databaseUrl: db.url, keyText: db.keyText, workerConcurrency: concurrency };
    const api = await startApi({ ...env, workerConcurrency: 0 });
    const workers: AppProcess[] = [];
    for (let i = 0; i < workerCount; i++) workers.push(await startWorker(env));
    const admin = createSql(db.url, { max: 2 });
    const killed: Kill[] = [];
    const killedPids = new Set<number>();
    // Watches the runner records twice a second: when a killed runner's record goes (its release),
    // and whether a live runner's ever goes or is written anew (a live runner taken for dead).
    const liveStarts = new Map<string, { pid: number; started: number }>();
    const takenForDead = new Set<string>();
    let monitoring = true;
    const monitor = (async () => {
      while (monitoring) {
        await sleep(500);
        let rows: { id: string; pid: number; started: number }[];
        try {
          rows = await admin<{ id: string; pid: number; started: number }[]>`
            select id, pid, extract(epoch from started_at)::float8 as started from job_runners.processes`;
        } catch {
          continue; // PostgreSQL is restarting
        }
        const now = performance.now();
        const ids = new Map(rows.map((r) => [r.id, r]));
        for (const k of killed)
          if (k.runnerId && k.releasedAfterMs === null && !ids.has(k.runnerId))
            k.releasedAfterMs = now - k.at;
        for (const [id, seen] of liveStarts) {
          if (killedPids.has(seen.pid)) {
            liveStarts.delete(id);
            continue;
          }
          const row = ids.get(id);
          if (!row || row.started !== seen.started) takenForDead.add(id);
        }
        for (const r of rows) if (!killedPids.has(r.pid) && !liveStarts.has(r.id)) liveStarts.set(r.id, r);
      }
    })();
    let kills = 0;
    let restarted = false;
    let sentCount = 0;
    let chaos = true;
    const chaosLoop = (async () => {
      while (chaos) {
        await sleep(2000 + random() * 4000);
        if (!chaos) break;
        const i = Math.floor(random() * workers.length);
        const victim = workers[i];
        if (victim) {
          await victim.kill();
          kills += 1;
          const kill: Kill = {
            pid: victim.pid,
            at: performance.now(),
            runnerId: null,
            heldJobs: 0,
            releasedAfterMs: null,
          };
          killed.push(kill);
          killedPids.add(victim.pid);
          workers[i] = await startWorker(env);
          try {
            const [row] = await admin<{ id: string; held: number }[]>`
              select p.id, (select count(*)::int from graphile_worker._private_jobs j
                            where j.locked_by = any(p.pool_ids)) as held
              from job_runners.processes p where p.pid = ${victim.pid}`;
            kill.runnerId = row?.id ?? null;
            kill.heldJobs = row?.held ?? 0;
          } catch {
            // The database is restarting: this kill is left out of the release times.
          }
        }
        if (!restarted && sentCount > deliveries.length * 0.4) {
          restarted = true;
          log(`restarting PostgreSQL (${sentCount} deliveries answered so far)`);
          await pg.stop();
          await sleep(3000);
          pg = await startEmbeddedPostgres({ dataDir: dir, port });
          log('PostgreSQL is back');
        }
      }
    })();

    log(
      `sending ${deliveries.length} deliveries (${deliveries.filter((d) => d.duplicate).length} duplicates, ${deliveries.filter((d) => d.forged).length} forged)`,
    );
    const sent: Sent[] = await sendAll(`${api.url}/webhooks/shopify`, deliveries, {
      concurrency: 8,
      retries: 40,
      retryDelayMs: 500,
      maxMs: 30 * 60_000,
      onSent: () => {
        sentCount += 1;
      },
    });
    chaos = false;
    await chaosLoop;
    log(`sent; ${kills} workers SIGKILLed, PostgreSQL restarted: ${restarted}`);

    // Recovery, with no operator step: the jobs killed workers held are released by the live runners.
    const acked = sent.filter((s) => s.status === 200 && !byId.get(s.id)?.forged);
    const ackedIds = [...new Set(acked.map((s) => s.id))];
    // How long without progress before giving up (a dead runner's jobs are released within ~20 s).
    const waitBound = Number(process.env.BENCH_SOAK_WAIT_SECONDS ?? 45) * 1000;
    const pendingCount = async () => {
      const [row] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from webhook_events where status = 'pending' and external_id = any(${ackedIds}::text[])`;
      return row?.n ?? 0;
    };
    /** Waits while the backlog drains: until none is pending, `ms` pass without progress, or 20 min. */
    const waitProcessed = async (ms: number) => {
      const hardDeadline = performance.now() + 20 * 60_000;
      let n = await pendingCount();
      let lastProgress = performance.now();
      while (n > 0 && performance.now() - lastProgress < ms && performance.now() < hardDeadline) {
        await sleep(1000);
        const m = await pendingCount();
        if (m < n) lastProgress = performance.now();
        n = m;
      }
      return n;
    };
    const pendingAfter = await waitProcessed(waitBound);
    log(`pending once the backlog drained (or stopped draining for ${waitBound / 1000} s): ${pendingAfter}`);
    // Every killed runner's record should be gone by now; give a late one the time a release takes.
    const releaseDeadline = performance.now() + 30_000;
    while (
      killed.some((k) => k.runnerId && k.releasedAfterMs === null) &&
      performance.now() < releaseDeadline
    )
      await sleep(500);
    monitoring = false;
    await monitor;
    const [lockedRow] = await admin<{ n: number }[]>`
      select count(*)::int as n from graphile_worker._private_jobs where locked_by is not null`;
    const lockedAtEnd = lockedRow?.n ?? 0;
    const recorded = killed.filter((k) => k.runnerId !== null);
    const holding = recorded.filter((k) => k.heldJobs > 0);
    const notReleased = recorded.filter((k) => k.releasedAfterMs === null);
    const releaseS = recorded.flatMap((k) => (k.releasedAfterMs === null ? [] : [k.releasedAfterMs / 1000]));
    const holdingReleaseS = holding.flatMap((k) =>
      k.releasedAfterMs === null ? [] : [k.releasedAfterMs / 1000],
    );
    log(
      `killed runners released: ${recorded.length - notReleased.length} of ${recorded.length} ` +
        `(${holding.length} held ${holding.reduce((a, k) => a + k.heldJobs, 0)} jobs); ` +
        `SIGKILL → release p50 ${fmt(percentile(releaseS, 50))} s, max ${fmt(Math.max(...releaseS, 0))} s; ` +
        `live runners taken for dead: ${takenForDead.size}; jobs locked at the end: ${lockedAtEnd}`,
    );
    for (const w of workers) await w.stop();
    await api.stop();

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
    const ackedNotProcessed = await admin<
      { external_id: string; status: string; last_error: string | null }[]
    >`
      select external_id, status, last_error from webhook_events
      where external_id = any(${ackedIds}::text[]) and status <> 'processed'`;
    const [storedAcked] = await admin<{ n: number }[]>`
      select count(*)::int as n from webhook_events where external_id = any(${ackedIds}::text[])`;
    const ackedMissing = ackedIds.length - (storedAcked?.n ?? 0);
    const ackedOrders = new Set(ackedIds.map((id) => byId.get(id)?.orderId).filter((o): o is string => !!o));
    const [orderRows] = await admin<{ n: number }[]>`
      select count(distinct shopify_order_id)::int as n from orders where shopify_order_id::text = any(${[...ackedOrders]}::text[])`;
    await admin.end();

    const statusCounts = new Map<string, number>();
    for (const s of sent) {
      const k = `${byId.get(s.id)?.forged ? 'forged' : 'signed'} → ${s.status === 0 ? 'no answer' : s.status}`;
      statusCounts.set(k, (statusCounts.get(k) ?? 0) + 1);
    }
    const retried = sent.filter((s) => s.tries > 1).length;
    const table = markdownTable(
      ['check', 'result'],
      [
        [
          'deliveries sent (duplicates, forged)',
          `${deliveries.length} (${deliveries.filter((d) => d.duplicate).length}, ${deliveries.filter((d) => d.forged).length})`,
        ],
        ['final answers', [...statusCounts.entries()].map(([k, v]) => `${k}: ${v}`).join('; ')],
        ['deliveries that needed retries (503 / no answer)', String(retried)],
        ['worker processes SIGKILLed / PostgreSQL restarts', `${kills} / ${restarted ? 1 : 0}`],
        ['acked signed deliveries (distinct webhook ids)', String(ackedIds.length)],
        ['acked but not stored', `**${ackedMissing}**`],
        ['acked but not processed at the end', `**${ackedNotProcessed.length}**`],
        [
          'killed workers holding jobs → jobs they held (stranded until released)',
          `${holding.length} → ${holding.reduce((a, k) => a + k.heldJobs, 0)}`,
        ],
        [
          'SIGKILL → their jobs released by the live runners (s): p50 / p95 / max',
          `${fmt(percentile(holdingReleaseS, 50))} / ${fmt(percentile(holdingReleaseS, 95))} / ${fmt(Math.max(...holdingReleaseS, 0))} (all ${recorded.length} killed runners: ${fmt(percentile(releaseS, 50))} / ${fmt(percentile(releaseS, 95))} / ${fmt(Math.max(...releaseS, 0))})`,
        ],
        [
          'killed runners never released / jobs still locked at the end',
          `**${notReleased.length}** / **${lockedAtEnd}**`,
        ],
        ['live runners taken for dead', `**${takenForDead.size}**`],
        ['operator steps', 'none'],
        ['distinct acked orders → orders in the CRM', `${ackedOrders.size} → ${orderRows?.n ?? 0}`],
        ['Shopify orders stored twice', `**${stats?.dup ?? 0}**`],
        ['forged events stored', `**${stats?.forged ?? 0}**`],
        [
          'events: total / processed / failed',
          `${stats?.events ?? 0} / ${stats?.processed ?? 0} / ${stats?.failed ?? 0}`,
        ],
      ],
    );
    const failures = [
      ...(ackedMissing > 0 ? [`${ackedMissing} acked but not stored`] : []),
      ...(ackedNotProcessed.length > 0 ? [`${ackedNotProcessed.length} acked but not processed`] : []),
      ...(pendingAfter > 0 ? [`${pendingAfter} still pending`] : []),
      ...(notReleased.length > 0 ? [`${notReleased.length} killed runners never released`] : []),
      ...(lockedAtEnd > 0 ? [`${lockedAtEnd} jobs still locked`] : []),
      ...(takenForDead.size > 0 ? [`${takenForDead.size} live runners taken for dead`] : []),
      ...((stats?.dup ?? 0) > 0 ? [`${stats?.dup} orders stored twice`] : []),
      ...((stats?.forged ?? 0) > 0 ? [`${stats?.forged} forged events stored`] : []),
    ];
    const body = [
      stamp(options.command),
      '',
      `A private embedded PostgreSQL (temporary folder, port ${port}); the server (WORKER_CONCURRENCY=0) and ` +
        `${workerCount} \`npm run worker\` processes (WORKER_CONCURRENCY=${concurrency}); one worker SIGKILLed and ` +
        'replaced every 2–6 s; PostgreSQL stopped for 3 s once 40% of the deliveries were answered. 8 senders; a ' +
        '503 or a lost connection is retried (up to 40 times, 500 ms apart) like Shopify would. No operator step: ' +
        'the jobs a killed worker held must be released by the live runners (liveness sweep, apps/api/src/jobs/' +
        "liveness.ts); release times are from the SIGKILL to the killed runner's record leaving job_runners.processes " +
        '(polled every 0.5 s), which the release deletes in the same transaction.',
      '',
      table,
      '',
      failures.length === 0
        ? '**Passed**: every acked delivery processed with no operator step, no live runner taken for dead.'
        : `**FAILED**: ${failures.join('; ')}.`,
      '',
      '<details><summary>timeline</summary>',
      '',
      ...events.map((e) => `- ${e}`),
      ...(ackedNotProcessed.length > 0
        ? [
            '',
            'not processed:',
            ...ackedNotProcessed
              .slice(0, 10)
              .map((r) => `- ${r.external_id}: ${r.status} ${r.last_error ?? ''}`),
          ]
        : []),
      '</details>',
    ].join('\n');
    const report = {
      name: 'soak',
      title: 'Hardening: soak with worker kills and a PostgreSQL restart',
      body,
    };
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
