/**
 * Contact lookup: p50/p95 of the worker's fuzzy candidate search (findContactCandidatesByName from
 * @crm/db/worker, as app_worker for the workspace, threshold and limit as apply-order uses them) at
 * 10k, 100k and 1M contacts generated in SQL, with EXPLAIN (ANALYZE, BUFFERS) of the same SQL.
 */
import type { Sql } from '@crm/db';
import { findContactCandidatesByName } from '@crm/db/worker';
import { FUZZY_THRESHOLDS, normalizeText } from '@crm/shopify';
import { createBenchDatabase, generateContacts } from '../lib/db.ts';
import { misspell, randomName } from '../lib/names.ts';
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

/**
 * A candidate query that stays on the indexes (for comparison, not used by the app): sounding alike
 * on at least two words of the name (every pair of words as a GIN containment), which is what the
 * scorer's "same phonetic name" needs for names of two words or more; one-word names on that word.
 */
export function proposedLookupSql(words: readonly string[]): { where: string; params: string[] } {
  const w = words.slice(0, 4);
  if (w.length < 2) return { where: 'name_phonetic && app.crm_phonetic_keys($1)', params: [w[0] ?? ''] };
  const pairs: string[] = [];
  for (let i = 0; i < w.length; i++)
    for (let j = i + 1; j < w.length; j++)
      pairs.push(
        `(name_phonetic && app.crm_phonetic_keys($${i + 1}) and name_phonetic && app.crm_phonetic_keys($${j + 1}))`,
      );
  return { where: pairs.join(' or '), params: [...w] };
}

async function timeProposed(sql: Sql, workspaceId: string, names: readonly string[]): Promise<Timing> {
  const ms: number[] = [];
  const rows: number[] = [];
  const conn = await sql.reserve();
  const begun = performance.now();
  try {
    for (const name of names) {
      if (ms.length >= 20 && performance.now() - begun > BUDGET_MS) break;
      const words = normalizeText(name)
        .split(' ')
        .filter((x) => x.length >= 2);
      const { where, params } = proposedLookupSql(words);
      await conn`begin`;
      await conn`select set_config('role', 'app_worker', true), set_config('app.workspace_id', ${workspaceId}, true)`;
      const started = performance.now();
      const found = await conn.unsafe(
        `select id, name, phone, email, city, department,
                similarity(name_norm, app.crm_normalize($${params.length + 1})) as similarity
         from contacts
         where workspace_id = app.current_workspace_id() and (${where})
         order by similarity desc, created_at, id
         limit 25`,
        [...params, name],
      );
      ms.push(performance.now() - started);
      rows.push(found.length);
      await conn`commit`;
    }
  } finally {
    conn.release();
  }
  return { ms, rows };
}

/** Each size gets at most this long per query kind (at least 20 queries): a slow query stays bounded. */
const BUDGET_MS = Number(process.env.BENCH_LOOKUP_BUDGET_SECONDS ?? 60) * 1000;

async function timeLookups(sql: Sql, workspaceId: string, names: readonly string[]): Promise<Timing> {
  const ms: number[] = [];
  const rows: number[] = [];
  const conn = await sql.reserve();
  const begun = performance.now();
  try {
    for (const name of names) {
      if (ms.length >= 20 && performance.now() - begun > BUDGET_MS) break;
      await conn`begin`;
      await conn`select set_config('role', 'app_worker', true), set_config('app.workspace_id', ${workspaceId}, true)`;
      const started = performance.now();
      const found = await findContactCandidatesByName(conn, name, {
        limit: 25,
        similarityThreshold: FUZZY_THRESHOLDS.nameSimilarity,
      });
      ms.push(performance.now() - started);
      rows.push(found.length);
      await conn`commit`;
    }
  } finally {
    conn.release();
  }
  return { ms, rows };
}

/** EXPLAIN (ANALYZE, BUFFERS) of the candidate query, as app_worker, for one name. */
export async function explainLookup(sql: Sql, workspaceId: string, name: string): Promise<string> {
  return (await sql.begin(async (tx) => {
    await tx`select set_config('role', 'app_worker', true), set_config('app.workspace_id', ${workspaceId}, true)`;
    await tx`select set_config('pg_trgm.similarity_threshold', ${String(FUZZY_THRESHOLDS.nameSimilarity)}, true)`;
    const lines = await tx.unsafe<{ 'QUERY PLAN': string }[]>(
      `explain (analyze, buffers, costs off)
       select id, name, phone, email, city, department,
              similarity(name_norm, app.crm_normalize($1)) as similarity
       from contacts
       where workspace_id = app.current_workspace_id()
         and (name_phonetic && app.crm_phonetic_keys($1) or name_norm % app.crm_normalize($1))
       order by similarity desc, created_at, id
       limit 25`,
      [name],
    );
    return lines.map((l) => l['QUERY PLAN']).join('\n');
  })) as string;
}

export async function lookupSection(options: BenchOptions): Promise<SectionReport> {
  const sizes = [10_000, 100_000, 1_000_000, 10_000_000].filter((n) => n <= options.contacts);
  const queries = options.quick ? 150 : 400;
  const names = lookupNames(queries);
  const db = await createBenchDatabase('lookup');
  try {
    const results: { size: number; timing: Timing; proposed: Timing; plan: string; loadSeconds: number }[] =
      [];
    let have = 0;
    for (const size of sizes) {
      const started = Date.now();
      await generateContacts(db.sql, db.workspaceId, size - have);
      have = size;
      const loadSeconds = (Date.now() - started) / 1000;
      await db.sql`vacuum analyze contacts`;
      await timeLookups(db.sql, db.workspaceId, names.slice(0, 30)); // warm the cache
      const timing = await timeLookups(db.sql, db.workspaceId, names);
      const plan = await explainLookup(db.sql, db.workspaceId, names[1] ?? 'Maria Garcia');
      const proposed = await timeProposed(db.sql, db.workspaceId, names);
      results.push({ size, timing, proposed, plan, loadSeconds });
      console.log(
        `  ${size} contacts (loaded in ${fmt(loadSeconds, 0)} s): p50 ${fmt(median(timing.ms), 2)} ms, ` +
          `p95 ${fmt(percentile(timing.ms, 95), 2)} ms, mean rows ${fmt(timing.rows.reduce((a, b) => a + b, 0) / timing.rows.length)}; ` +
          `phonetic-pairs query p50 ${fmt(median(proposed.ms), 2)} ms p95 ${fmt(percentile(proposed.ms, 95), 2)} ms`,
      );
    }
    const first = results[0];
    const last = results[results.length - 1];
    const growth =
      first && last ? percentile(last.timing.ms, 95) / percentile(first.timing.ms, 95) : Number.NaN;
    const table = markdownTable(
      [
        'contacts',
        'queries',
        'p50 (ms)',
        'p95 (ms)',
        'p99 (ms)',
        'max (ms)',
        'candidates returned (mean)',
        'p95 vs 10k',
      ],
      results.map((r) => [
        r.size.toLocaleString('en-US'),
        String(r.timing.ms.length),
        fmt(median(r.timing.ms), 2),
        fmt(percentile(r.timing.ms, 95), 2),
        fmt(percentile(r.timing.ms, 99), 2),
        fmt(Math.max(...r.timing.ms), 2),
        fmt(r.timing.rows.reduce((a, b) => a + b, 0) / r.timing.rows.length),
        first ? `${fmt(percentile(r.timing.ms, 95) / percentile(first.timing.ms, 95), 1)}×` : '—',
      ]),
    );
    const proposedTable = markdownTable(
      ['contacts', 'p50 (ms)', 'p95 (ms)', 'p99 (ms)', 'candidates returned (mean)', 'p95 vs 10k'],
      results.map((r) => [
        r.size.toLocaleString('en-US'),
        fmt(median(r.proposed.ms), 2),
        fmt(percentile(r.proposed.ms, 95), 2),
        fmt(percentile(r.proposed.ms, 99), 2),
        fmt(r.proposed.rows.reduce((a, b) => a + b, 0) / r.proposed.rows.length),
        first ? `${fmt(percentile(r.proposed.ms, 95) / percentile(first.proposed.ms, 95), 1)}×` : '—',
      ]),
    );
    const plans = results
      .map(
        (r) =>
          `<details><summary>EXPLAIN (ANALYZE, BUFFERS) at ${r.size.toLocaleString('en-US')} contacts, name “${names[1]}”</summary>\n\n\`\`\`\n${r.plan}\n\`\`\`\n</details>`,
      )
      .join('\n\n');
    const body = [
      stamp(options.command),
      '',
      `The worker's query (\`findContactCandidatesByName\`, limit 25, pg_trgm threshold ` +
        `${FUZZY_THRESHOLDS.nameSimilarity}) as app_worker for one workspace holding all the contacts, ` +
        `up to ${queries} names per size (a third as generated, a third misspelt once, a third twice; at most ` +
        `${BUDGET_MS / 1000} s of queries per size, at least 20), warm cache. ` +
        'Contacts generated in SQL from 146 given names and 136 surnames (Spanish and English), 1–2 of each, ' +
        '50 cities.',
      '',
      table,
      '',
      `- Growth of p95 from ${first?.size.toLocaleString('en-US')} to ${last?.size.toLocaleString('en-US')}: ` +
        `**${fmt(growth, 1)}×** (goal ≤ 3×); p95 at the largest size **${fmt(last ? percentile(last.timing.ms, 95) : Number.NaN, 2)} ms** (goal ≤ 10 ms at 1M).`,
      '',
      'For comparison (not what the app runs): candidates that sound alike on at least two words of the ' +
        'name (`proposedLookupSql` in bench/src/sections/lookup.ts: every pair of words as two GIN ' +
        '`name_phonetic &&` conditions, OR-ed), same names, same run:',
      '',
      proposedTable,
      '',
      plans,
    ].join('\n');
    return { name: 'lookup', title: 'Contact lookup (fuzzy candidates)', body };
  } finally {
    await db.drop();
  }
}
