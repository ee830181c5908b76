/**
 * Soak: deliveries with 10% duplicates (half of them sent at the same time as the original) and 5%
 * forged signatures into the real server with `npm run worker` processes that are SIGKILLed at random
 * and replaced, while PostgreSQL — a private embedded cluster in a temporary folder, never the
 * machine's shared one — is restarted once. Senders retry 503s and lost connections like Shopify.
 * Afterwards: every acked delivery processed, no Shopify order twice, no forged event stored.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSql, type EmbeddedDatabase, startEmbeddedPostgres } from '@crm/db';
import { freePort } from '@crm/db/testing';
import { type AppProcess, startApi, startWorker } from '../lib/app.ts';
import { createBenchDatabase } from '../lib/db.ts';
import type { BenchOptions } from '../lib/options.ts';
import { type SectionReport, stamp } from '../lib/report.ts';
import { type Prepared, type Sent, sendAll } from '../lib/sender.ts';
import { fmt, markdownTable, rng, sleep } from '../lib/stats.ts';
import { orderPayload, randomOrder, signedHeaders } from '../lib/webhooks.ts';

type Delivery = Prepared & { orderId: string | null; forged: boolean; duplicate: boolean };

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
          workers[i] = await startWorker(env);
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

    // Recovery: jobs held by killed workers stay locked until the runner's stalled-job sweep (15 min).
    const acked = sent.filter((s) => s.status === 200 && !byId.get(s.id)?.forged);
    const ackedIds = [...new Set(acked.map((s) => s.id))];
    // How long without progress before the operator step (killed workers' jobs stay locked 15 min).
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
    const admin = createSql(db.url, { max: 1 });
    let pendingBeforeUnlock = await waitProcessed(waitBound);
    log(`pending once the backlog stopped draining for ${waitBound / 1000} s: ${pendingBeforeUnlock}`);
    let strandedJobs = 0;
    if (pendingBeforeUnlock > 0) {
      // The operator's recovery: stop the live workers (they release their locks), then release the
      // jobs still locked — they belong to killed workers — and start workers again.
      for (const w of workers) await w.stop();
      const [row] = await admin<{ n: number }[]>`
        select count(*)::int as n from graphile_worker._private_jobs where locked_by is not null`;
      strandedJobs = row?.n ?? 0;
      await admin`
        select graphile_worker.force_unlock_workers(array_agg(distinct locked_by))
        from graphile_worker._private_jobs where locked_by is not null`;
      log(`released ${strandedJobs} jobs locked by killed workers`);
      for (let i = 0; i < workers.length; i++) workers[i] = await startWorker(env);
      pendingBeforeUnlock = await waitProcessed(waitBound);
    }
    const pendingAfter = pendingBeforeUnlock;
    log(`pending at the end: ${pendingAfter}`);
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
        ['jobs stranded by killed workers (released by the operator step)', String(strandedJobs)],
        ['distinct acked orders → orders in the CRM', `${ackedOrders.size} → ${orderRows?.n ?? 0}`],
        ['Shopify orders stored twice', `**${stats?.dup ?? 0}**`],
        ['forged events stored', `**${stats?.forged ?? 0}**`],
        [
          'events: total / processed / failed',
          `${stats?.events ?? 0} / ${stats?.processed ?? 0} / ${stats?.failed ?? 0}`,
        ],
      ],
    );
    const body = [
      stamp(options.command),
      '',
      `A private embedded PostgreSQL (temporary folder, port ${port}); the server (WORKER_CONCURRENCY=0) and ` +
        `${workerCount} \`npm run worker\` processes (WORKER_CONCURRENCY=${concurrency}); one worker SIGKILLed and ` +
        'replaced every 2–6 s; PostgreSQL stopped for 3 s once 40% of the deliveries were answered. 8 senders; a ' +
        '503 or a lost connection is retried (up to 40 times, 500 ms apart) like Shopify would.',
      '',
      table,
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
    return { name: 'soak', title: 'Hardening: soak with worker kills and a PostgreSQL restart', body };
  } finally {
    await db.drop().catch(() => {});
    await pg.stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}
