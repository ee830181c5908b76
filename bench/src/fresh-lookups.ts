/**
 * A new connection's first contact lookups: `npx tsx bench/src/fresh-lookups.ts [contacts] [rounds]`
 * (default 1,000,000 and 4). A bench database with `contacts` generated contacts, checkpointed; then
 * `rounds` times, on a NEW connection each, the lookup section's 400 probes in its order and as it
 * times them (timeLookups). Per round: p50 / p95 of all, of each city's first probe on the connection
 * (its statement text is planned then: the trigram arm names the city's bucket, so ~50 texts) and of
 * the others. Round 1 follows the load (pages still to read from the OS); the later ones are the
 * figure. The machine line says whether this machine has huge pages for PostgreSQL's shared memory
 * (README, "PostgreSQL server"). `BENCH_FRESH_DB=<url>` reuses a database a run
 * kept (`BENCH_FRESH_KEEP=1`) instead of loading one. Not part of `npm run bench`.
 */
import { createSql } from '@crm/db';
import { createBenchDatabase, generateContacts } from './lib/db.ts';
import { machine } from './lib/report.ts';
import { fmt, median, percentile } from './lib/stats.ts';
import { lookupProbes, timeLookups } from './sections/lookup.ts';

const contacts = Number(process.argv[2] ?? 1_000_000);
const rounds = Number(process.argv[3] ?? 4);

async function database(): Promise<{ url: string; workspaceId: string; drop: () => Promise<void> }> {
  const kept = process.env.BENCH_FRESH_DB;
  if (kept) {
    const sql = createSql(kept, { max: 1 });
    const [ws] = await sql<{ id: string }[]>`select id from workspaces order by created_at limit 1`;
    await sql.end();
    if (!ws) throw new Error(`no workspace in ${kept}`);
    return { url: kept, workspaceId: ws.id, drop: async () => {} };
  }
  const db = await createBenchDatabase('fresh');
  const t0 = performance.now();
  await generateContacts(db.sql, db.workspaceId, contacts);
  await db.sql`checkpoint`;
  console.log(`loaded ${contacts} contacts in ${fmt((performance.now() - t0) / 1000)} s`);
  if (process.env.BENCH_FRESH_KEEP) {
    console.log(`kept: BENCH_FRESH_DB=${db.url}`);
    await db.sql.end();
    return { url: db.url, workspaceId: db.workspaceId, drop: async () => {} };
  }
  return { url: db.url, workspaceId: db.workspaceId, drop: db.drop };
}

async function main(): Promise<void> {
  const db = await database();
  console.log(machine());
  const probes = lookupProbes(400, contacts);
  try {
    for (let round = 1; round <= rounds; round++) {
      const sql = createSql(db.url, { max: 1, applicationName: 'crm-bench-fresh' });
      const timing = await timeLookups(sql, db.workspaceId, probes).finally(() => sql.end());
      const seen = new Set<string>();
      const first: number[] = [];
      const again: number[] = [];
      timing.ms.forEach((ms, i) => {
        const city = probes[i]?.city ?? '';
        (seen.has(city) ? again : first).push(ms);
        seen.add(city);
      });
      const line = (xs: number[]) => `p50 ${fmt(median(xs), 2)} / p95 ${fmt(percentile(xs, 95), 2)} ms`;
      console.log(
        `round ${round}: ${timing.ms.length} lookups ${line(timing.ms)}; ` +
          `a city's first (${first.length}) ${line(first)}; the others ${line(again)}`,
      );
    }
  } finally {
    await db.drop();
  }
}

await main();
process.exit(0);
