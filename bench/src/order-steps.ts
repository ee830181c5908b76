/**
 * Where a processed order's time goes: `npx tsx bench/src/order-steps.ts [contacts] [orders]`.
 * A bench database with `contacts` generated contacts (default 100,000) and 1,000 products; `orders`
 * pending orders/create events (default 300, the processing section's mix) stored as the owner; then
 * each is processed by the worker's attempt (processQueuedEvent, leased beforehand: the claim is not
 * measured here) one after the other, on ONE
 * connection logged in like the app's single pool, so that every statement is sent after the previous
 * one answered: the time from a statement's send to the next send on that connection is the
 * statement's round trip plus the client's work until the next one. Prints the time per statement
 * kind per order, the round trips and the transactions per order. Not part of `npm run bench`.
 */
import type { QueuedWebhookEvent } from '@crm/db/worker';
import postgres from 'postgres';
import { loadConfig } from '../../apps/api/src/config.ts';
import type { AppDeps } from '../../apps/api/src/deps.ts';
import { processQueuedEvent } from '../../apps/api/src/jobs/process-event.ts';
import { createLogger } from '../../apps/api/src/log.ts';
import { measureCpuSpent } from './lib/cpu.ts';
import { createBenchDatabase, generateContacts, generateProducts } from './lib/db.ts';
import { fmt, markdownTable, rng } from './lib/stats.ts';
import { orderPayload, randomOrder } from './lib/webhooks.ts';

const contacts = Number(process.argv[2] ?? 100_000);
const orders = Number(process.argv[3] ?? 300);

function kindOf(query: string): string {
  const q = query.replace(/\s+/g, ' ').trim();
  if (/^(begin|commit|rollback)/i.test(q)) return q.split(' ')[0]?.toLowerCase() ?? q;
  if (/set_config\('role'|set local role|set_config\('app\./i.test(q) && q.length < 200)
    return 'set role + workspace';
  return q.slice(0, 90);
}

async function main(): Promise<void> {
  const db = await createBenchDatabase('steps');
  try {
    const t0 = performance.now();
    await generateContacts(db.sql, db.workspaceId, contacts);
    await generateProducts(db.sql, db.workspaceId, 1000);
    console.log(`loaded ${contacts} contacts in ${fmt((performance.now() - t0) / 1000)} s`);
    const [integration] = await db.sql<{ id: string }[]>`
      select id from integrations where workspace_id = ${db.workspaceId}`;
    if (!integration) throw new Error('no integration');
    const random = rng(7);
    const ids: QueuedWebhookEvent[] = [];
    for (let n = 1; n <= orders; n++) {
      const body = orderPayload(randomOrder(random, n, 1, contacts, 1000)).toString('utf8');
      const [row] = await db.sql<{ id: string; version: string }[]>`
        insert into webhook_events (workspace_id, integration_id, external_id, topic, shop_domain, payload,
                                    locked_by, attempts, run_at)
        values (${db.workspaceId}, ${integration.id}, ${`steps-${n}`}, 'orders/create', 'demo-store.myshopify.com', ${body},
                'steps', 1, now() + interval '1 hour')
        returning id, xmin::text as version`;
      // As the claim returns it: the payload and the version of the row it read.
      if (row) {
        ids.push({
          id: row.id,
          workspaceId: db.workspaceId,
          attempts: 1,
          integrationId: integration.id,
          topic: 'orders/create',
          payload: body,
          version: row.version,
        });
      }
    }
    // What was loaded, as the processing section does; not the empty orders tables: statistics of an
    // empty table make every plan cached on these connections read whole tables as they fill up.
    await db.sql`analyze contacts, products`;

    const sent: { at: number; kind: string }[] = [];
    const sql = postgres(db.url, {
      max: 1,
      onnotice: () => {},
      debug: (_conn, query) => sent.push({ at: performance.now(), kind: kindOf(query) }),
    });
    const deps: AppDeps = {
      sql,
      key: db.key,
      config: { ...loadConfig({}), webDist: null, workerConcurrency: 0 },
      log: createLogger(false),
    };
    // Warm the connection and its prepared statements on the first tenth, then measure the rest.
    const warm = Math.ceil(ids.length / 10);
    for (const queued of ids.slice(0, warm)) {
      await processQueuedEvent(deps, queued, 'steps');
    }
    sent.length = 0;
    const measured = ids.slice(warm);
    const cpu = measureCpuSpent({});
    const start = performance.now();
    for (const queued of measured) {
      await processQueuedEvent(deps, queued, 'steps');
      sent.push({ at: performance.now(), kind: '(end of job)' });
    }
    const total = performance.now() - start;
    const spent = cpu();
    const per = new Map<string, { ms: number; n: number }>();
    for (let i = 0; i + 1 < sent.length; i++) {
      const s = sent[i];
      const next = sent[i + 1];
      if (!s || !next || s.kind === '(end of job)') continue;
      const e = per.get(s.kind) ?? { ms: 0, n: 0 };
      e.ms += next.at - s.at;
      e.n += 1;
      per.set(s.kind, e);
    }
    const m = measured.length;
    const roundTrips = sent.filter((s) => s.kind !== '(end of job)').length;
    const begins = sent.filter((s) => s.kind === 'begin').length;
    const rows = [...per.entries()]
      .sort((a, b) => b[1].ms - a[1].ms)
      .map(([kind, e]) => [
        `\`${kind.replace(/\|/g, '\\|')}\``,
        fmt(e.n / m, 2),
        fmt(e.ms / m, 2),
        fmt((100 * e.ms) / total, 1),
      ]);
    console.log(
      `${m} orders at ${contacts} contacts: ${fmt(total / m, 2)} ms per order (${fmt((1000 * m) / total)} orders/s on one connection), ` +
        `${fmt(roundTrips / m, 1)} statements sent and ${fmt(begins / m, 1)} transactions per order`,
    );
    // CPU time is steadier than the wall time on a shared machine: what this process (the worker's
    // code, postgres.js) and PostgreSQL spent per order, and the machine's busy time.
    console.log(
      `CPU per order: this process ${fmt(spent.bench / m, 2)} ms, PostgreSQL ${fmt(spent.postgres / m, 2)} ms, ` +
        `the machine ${fmt(spent.machine / m, 2)} ms`,
    );
    console.log(
      markdownTable(['statement (first 90 characters)', 'per order', 'ms per order', '% of time'], rows),
    );
    await sql.end({ timeout: 5 });
  } finally {
    await db.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
