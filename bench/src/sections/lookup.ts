/**
 * Contact lookup: p50/p95 of the worker's fuzzy candidate search (findContactCandidatesByName from
 * @crm/db/worker, as app_worker for the workspace, threshold and limit as apply-order uses them) at
 * 10k, 100k and 1M contacts generated in SQL, with EXPLAIN (ANALYZE, BUFFERS) of the same SQL.
 */
import type { Queryable, Sql } from '@crm/db';
import { CANDIDATE_NAME_SIMILARITY, findContactCandidatesByName } from '@crm/db/worker';
import { FUZZY_THRESHOLDS } from '@crm/shopify';
import { createBenchDatabase, generateContacts } from '../lib/db.ts';
import { misspell, randomCity, randomName } from '../lib/names.ts';
import type { BenchOptions } from '../lib/options.ts';
import { type SectionReport, stamp } from '../lib/report.ts';
import { fmt, markdownTable, median, percentile, rng } from '../lib/stats.ts';

/** The names searched: a third as generated, a third misspelt, a third misspelt twice. */
export function lookupNames(count: number, seed = 11): string[] {
  const random = rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const name = randomName(random);
    if (i % 3 === 0) return name;
    if (i % 3 === 1) return misspell(random, name);
    return misspell(random, misspell(random, name));
  });
}

type Timing = { ms: number[]; rows: number[] };

/** What an order says about its customer: the lookup's input. */
export type LookupProbe = { name: string; city: string; phone: string; email: string };

/**
 * The probes: lookupNames() with a city from the generator's list, a fresh email (no contact has it),
 * and a phone: for a third a generated contact's phone with one digit changed (the generator gives
 * the contacts consecutive numbers, +573000000001…, so such a phone has hundreds of neighbours 1–2
 * digits away), otherwise a random Colombian mobile (+573…, 9 random digits).
 */
export function lookupProbes(count: number, contacts: number, seed = 12): LookupProbe[] {
  const random = rng(seed);
  return lookupNames(count).map((name, i) => {
    const { city } = randomCity(random);
    let phone: string;
    if (i % 3 === 0) {
      const digits = [...String(3_000_000_000 + 1 + Math.floor(random() * contacts))];
      const at = 3 + Math.floor(random() * (digits.length - 3));
      digits[at] = String((Number(digits[at]) + 1 + Math.floor(random() * 9)) % 10);
      phone = `+57${digits.join('')}`;
    } else {
      phone = `+573${String(Math.floor(random() * 1e9)).padStart(9, '0')}`;
    }
    return { name, city, phone, email: `probe${i}.${Math.floor(random() * 1e6)}@example.net` };
  });
}

/** The query before 0009 (for comparison): any word sounding alike, or pg_trgm similarity ≥ 0.5. */
async function previousLookup(conn: Queryable, probe: LookupProbe): Promise<number> {
  await conn`select set_config('pg_trgm.similarity_threshold', ${String(FUZZY_THRESHOLDS.nameSimilarity)}, true)`;
  const rows = await conn`
    select id, name, phone, email, city, department,
           similarity(name_norm, app.crm_normalize(${probe.name})) as similarity
    from contacts
    where workspace_id = app.current_workspace_id()
      and (name_phonetic && app.crm_phonetic_keys(${probe.name}) or name_norm % app.crm_normalize(${probe.name}))
    order by similarity desc, created_at, id
    limit 25`;
  return rows.length;
}

/** The app's query, as apply-order calls it. */
async function appLookup(conn: Queryable, probe: LookupProbe): Promise<number> {
  const rows = await findContactCandidatesByName(conn, probe, {
    limit: 25,
    nameSimilarity: FUZZY_THRESHOLDS.nameSimilarity,
  });
  return rows.length;
}

/** Each size gets at most this long per query kind (at least 20 queries): a slow query stays bounded. */
const BUDGET_MS = Number(process.env.BENCH_LOOKUP_BUDGET_SECONDS ?? 60) * 1000;

/**
 * Times `lookup` for each probe, each in its own transaction as app_worker for the workspace (the time
 * of the lookup only, set-up excluded), until the probes or the budget run out.
 */
async function timeLookups(
  sql: Sql,
  workspaceId: string,
  probes: readonly LookupProbe[],
  lookup: (conn: Queryable, probe: LookupProbe) => Promise<number>,
  budgetMs = BUDGET_MS,
): Promise<Timing> {
  const ms: number[] = [];
  const rows: number[] = [];
  const conn = await sql.reserve();
  const begun = performance.now();
  try {
    for (const probe of probes) {
      if (ms.length >= 20 && performance.now() - begun > budgetMs) break;
      await conn`begin`;
      await conn`select set_config('role', 'app_worker', true), set_config('app.workspace_id', ${workspaceId}, true)`;
      const started = performance.now();
      rows.push(await lookup(conn, probe));
      ms.push(performance.now() - started);
      await conn`commit`;
    }
  } finally {
    conn.release();
  }
  return { ms, rows };
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of the app's query for one probe, as app_worker: the lookup runs on a
 * stand-in for the transaction that prefixes its final `select … order by … limit` with EXPLAIN.
 */
export async function explainLookup(sql: Sql, workspaceId: string, probe: LookupProbe): Promise<string> {
  const conn = await sql.reserve();
  let explained: PromiseLike<{ 'QUERY PLAN': string }[]> | null = null;
  const explaining = new Proxy(conn, {
    apply(target, self, args: unknown[]) {
      const [strings, ...values] = args as [TemplateStringsArray, ...unknown[]];
      if (
        !Array.isArray(strings) ||
        !/^\s*select\b/.test(strings[0] ?? '') ||
        !/\border by\b[\s\S]*\blimit\b/.test(strings.join(''))
      )
        return Reflect.apply(target, self, args);
      const prefixed = [`explain (analyze, buffers, costs off) ${strings[0]}`, ...strings.slice(1)];
      const query = Reflect.apply(target, self, [Object.assign(prefixed, { raw: prefixed }), ...values]);
      explained = query;
      return query;
    },
  });
  try {
    await conn`begin`;
    await conn`select set_config('role', 'app_worker', true), set_config('app.workspace_id', ${workspaceId}, true)`;
    await findContactCandidatesByName(explaining, probe, {
      limit: 25,
      nameSimilarity: FUZZY_THRESHOLDS.nameSimilarity,
    });
    const lines = explained ? await explained : [];
    return lines.map((l) => l['QUERY PLAN']).join('\n');
  } finally {
    await conn`rollback`.catch(() => {});
    conn.release();
  }
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Probes whose phone is a generated contact's with one digit changed (every third, from the first). */
const nearBlock = (xs: readonly number[]) => xs.filter((_, i) => i % 3 === 0);
const elsewhere = (xs: readonly number[]) => xs.filter((_, i) => i % 3 !== 0);

export async function lookupSection(options: BenchOptions): Promise<SectionReport> {
  const sizes = [10_000, 100_000, 1_000_000, 10_000_000].filter((n) => n <= options.contacts);
  const queries = options.quick ? 150 : 400;
  const previousBudgetMs = Math.min(BUDGET_MS, 20_000);
  const db = await createBenchDatabase('lookup');
  try {
    const results: {
      size: number;
      timing: Timing;
      previous: Timing;
      plan: string;
      probe: LookupProbe;
      loadSeconds: number;
    }[] = [];
    let have = 0;
    for (const size of sizes) {
      const started = Date.now();
      await generateContacts(db.sql, db.workspaceId, size - have);
      have = size;
      const loadSeconds = (Date.now() - started) / 1000;
      await db.sql`vacuum analyze contacts`;
      const probes = lookupProbes(queries, size);
      await timeLookups(db.sql, db.workspaceId, probes.slice(0, 30), appLookup); // warm the cache
      const timing = await timeLookups(db.sql, db.workspaceId, probes, appLookup);
      const probe = probes[1] ?? {
        name: 'Maria Garcia',
        city: 'Bogotá',
        phone: '+573001234567',
        email: 'x@y.z',
      };
      const plan = await explainLookup(db.sql, db.workspaceId, probe);
      const previous = await timeLookups(db.sql, db.workspaceId, probes, previousLookup, previousBudgetMs);
      results.push({ size, timing, previous, plan, probe, loadSeconds });
      console.log(
        `  ${size} contacts (loaded in ${fmt(loadSeconds, 0)} s): p50 ${fmt(median(timing.ms), 2)} ms, ` +
          `p95 ${fmt(percentile(timing.ms, 95), 2)} ms, mean rows ${fmt(mean(timing.rows))}; ` +
          `query before 0009: p50 ${fmt(median(previous.ms), 2)} ms p95 ${fmt(percentile(previous.ms, 95), 2)} ms`,
      );
    }
    const first = results[0];
    const last = results[results.length - 1];
    const p95 = (t: Timing) => percentile(t.ms, 95);
    const growth = first && last ? p95(last.timing) / p95(first.timing) : Number.NaN;
    const table = markdownTable(
      [
        'contacts',
        'queries',
        'p50 (ms)',
        'p95 (ms)',
        'p99 (ms)',
        'max (ms)',
        'p95 vs 10k',
        'p95, phone 1 digit off a contact’s (ms)',
        'p95, other phones (ms)',
        'rows (mean)',
        'rows, phone 1 digit off (mean)',
        'queries at the limit of 25',
      ],
      results.map((r) => [
        r.size.toLocaleString('en-US'),
        String(r.timing.ms.length),
        fmt(median(r.timing.ms), 2),
        fmt(p95(r.timing), 2),
        fmt(percentile(r.timing.ms, 99), 2),
        fmt(Math.max(...r.timing.ms), 2),
        first ? `${fmt(p95(r.timing) / p95(first.timing), 1)}×` : '—',
        fmt(percentile(nearBlock(r.timing.ms), 95), 2),
        fmt(percentile(elsewhere(r.timing.ms), 95), 2),
        fmt(mean(r.timing.rows)),
        fmt(mean(nearBlock(r.timing.rows))),
        String(r.timing.rows.filter((n) => n >= 25).length),
      ]),
    );
    const previousTable = markdownTable(
      ['contacts', 'queries', 'p50 (ms)', 'p95 (ms)', 'p99 (ms)', 'rows (mean)', 'p95 vs 10k'],
      results.map((r) => [
        r.size.toLocaleString('en-US'),
        String(r.previous.ms.length),
        fmt(median(r.previous.ms), 2),
        fmt(p95(r.previous), 2),
        fmt(percentile(r.previous.ms, 99), 2),
        fmt(mean(r.previous.rows)),
        first ? `${fmt(p95(r.previous) / p95(first.previous), 1)}×` : '—',
      ]),
    );
    const plans = results
      .map(
        (r) =>
          `<details><summary>EXPLAIN (ANALYZE, BUFFERS) at ${r.size.toLocaleString('en-US')} contacts, ` +
          `probe “${r.probe.name}”, ${r.probe.city}, ${r.probe.phone}</summary>\n\n\`\`\`\n${r.plan}\n\`\`\`\n</details>`,
      )
      .join('\n\n');
    const body = [
      stamp(options.command),
      '',
      "The worker's query (`findContactCandidatesByName`, migration 0009: same city and sounding alike " +
        `or ≥ ${CANDIDATE_NAME_SIMILARITY.sameCity} similar, or a phone ≤ 2 digits off with a name ≥ 0.5 similar or sharing a key; limit 25) ` +
        'as app_worker for one workspace holding all the contacts, as apply-order calls it. ' +
        `Up to ${queries} probes per size (names: a third as generated, a third misspelt once, a third twice; ` +
        "a city from the generator's 50; a fresh email; a phone: for a third a generated contact's phone " +
        'with one digit changed, else a random +573… mobile); at most ' +
        `${BUDGET_MS / 1000} s of queries per size, at least 20; warm cache. Contacts generated in SQL from ` +
        '146 given names and 136 surnames (Spanish and English), 1–2 of each, 50 cities, consecutive phones ' +
        '(+573000000001…: every number of the block taken, so a phone in it has hundreds of neighbours 1–2 ' +
        'digits away — far denser than real customers).',
      '',
      table,
      '',
      `- Growth of p95 from ${first?.size.toLocaleString('en-US')} to ${last?.size.toLocaleString('en-US')}: ` +
        `**${fmt(growth, 1)}×** (goal ≤ 3×); p95 at the largest size **${fmt(last ? p95(last.timing) : Number.NaN, 2)} ms** (goal ≤ 10 ms at 1M).`,
      '',
      'For comparison, the query before 0009 (any word sounding alike, or pg_trgm similarity ≥ 0.5; ' +
        `limit 25), same probes (it reads the name only), same run, at most ${previousBudgetMs / 1000} s per size:`,
      '',
      previousTable,
      '',
      plans,
    ].join('\n');
    return { name: 'lookup', title: 'Contact lookup (fuzzy candidates)', body };
  } finally {
    await db.drop();
  }
}
