/**
 * Contact lookup: p50/p95 of the worker's fuzzy candidate search (findBestContactCandidate from
 * @crm/api, as apply-order calls it: findContactCandidatesByName as app_worker for the workspace, the
 * rows scored, asked again with a larger limit when the cut rows might win) at
 * 10k, 100k and 1M contacts generated in SQL, with EXPLAIN (ANALYZE, BUFFERS) of the same SQL.
 */
import { findBestContactCandidate } from '@crm/api/contact-candidate';
import { applyTransactionSettings, createSql, type Sql, type Tx, WORKER_PLANNER_SETTINGS } from '@crm/db';
import { findContactCandidatesByName } from '@crm/db/worker';
import {
  CANDIDATE_SCORE_WEIGHTS,
  contactScorer,
  FUZZY_THRESHOLDS,
  scoreContactCandidate,
} from '@crm/shopify';
import { type BenchDatabase, createBenchDatabase, generateContacts } from '../lib/db.ts';
import { GENERATED_PHONE, generatedPhone, misspell, randomCity, randomName } from '../lib/names.ts';
import type { BenchOptions } from '../lib/options.ts';
import { type SectionReport, stamp } from '../lib/report.ts';
import { fmt, median, percentile, rng } from '../lib/stats.ts';
import {
  BUDGET_MS,
  type LookupProbe,
  mean,
  methodText,
  p95,
  resultsTable,
  type SizeResult,
  type Timing,
} from './lookup-report.ts';

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

/**
 * The probes: lookupNames() with a city from the generator's list, a fresh email (no contact has it),
 * and a phone: for a third a generated contact's phone (generatedPhone) with one digit changed,
 * otherwise a random number of the block the generated phones fill (GENERATED_PHONE: +57 300…–319…,
 * where a real customer's mobile would be; a number outside it has no neighbours at all and would
 * make the phone arm look cheaper than it is).
 */
export function lookupProbes(count: number, contacts: number, seed = 12): LookupProbe[] {
  const random = rng(seed);
  return lookupNames(count, seed - 1).map((name, i) => {
    const { city } = randomCity(random);
    let phone: string;
    if (i % 3 === 0) {
      const digits = [...generatedPhone(1 + Math.floor(random() * contacts)).slice(3)];
      const at = 3 + Math.floor(random() * (digits.length - 3));
      digits[at] = String((Number(digits[at]) + 1 + Math.floor(random() * 9)) % 10);
      phone = `+57${digits.join('')}`;
    } else {
      phone = `+57${GENERATED_PHONE.base + Math.floor(random() * GENERATED_PHONE.span)}`;
    }
    return { name, city, phone, email: `probe${i}.${Math.floor(random() * 1e6)}@example.net` };
  });
}

/** The app's candidate search, as apply-order calls it. */
async function appLookup(conn: Tx, probe: LookupProbe): Promise<{ rows: number; rounds: number }> {
  const { rows, rounds } = await findBestContactCandidate(conn, probe);
  return { rows, rounds };
}

/** One timed lookup, in its own transaction as app_worker for the workspace (set-up excluded). */
async function timeOne(conn: Tx, workspaceId: string, probe: LookupProbe, into: Timing): Promise<void> {
  await conn`begin`;
  // As the worker's transactions (withWorkspace): app_worker for the workspace, planned as they are.
  await applyTransactionSettings(conn, {
    role: 'app_worker',
    'app.workspace_id': workspaceId,
    ...WORKER_PLANNER_SETTINGS,
  });
  const started = performance.now();
  const done = await appLookup(conn, probe);
  into.ms.push(performance.now() - started);
  into.rows.push(done.rows);
  into.rounds.push(done.rounds);
  await conn`commit`;
}

const emptyTiming = (): Timing => ({ ms: [], rows: [], rounds: [] });

/**
 * Times the lookup for each probe on `conn`, into `into`, until the probes run out or the budget
 * does (once at least `atLeast` queries ran).
 */
async function timeProbes(
  conn: Tx,
  workspaceId: string,
  probes: readonly LookupProbe[],
  into: Timing,
  { budgetMs = BUDGET_MS, atLeast = 20 }: { budgetMs?: number; atLeast?: number } = {},
): Promise<void> {
  const begun = performance.now();
  let n = 0;
  for (const probe of probes) {
    if (n >= atLeast && performance.now() - begun > budgetMs) break;
    await timeOne(conn, workspaceId, probe, into);
    n += 1;
  }
}

/** Times the lookup for each probe on one connection of `sql` (timeProbes: the budget, at least 20). */
export async function timeLookups(
  sql: Sql,
  workspaceId: string,
  probes: readonly LookupProbe[],
): Promise<Timing> {
  const timing = emptyTiming();
  const conn = await sql.reserve();
  try {
    await timeProbes(conn, workspaceId, probes, timing);
  } finally {
    conn.release();
  }
  return timing;
}

/** A database of one size, with the probes to time and those that warm it. */
type SizedDatabase = {
  size: number;
  db: BenchDatabase;
  probes: LookupProbe[];
  warmProbes: LookupProbe[];
  loadSeconds: number;
};

/**
 * Times one size: on one connection, warm (its warm probes, up to 20 s: the cache, and the
 * connection's prepared statements get their generic plans), then time its probes (the budget).
 */
async function timeWarmed(s: SizedDatabase, into: Timing): Promise<void> {
  const conn = await s.db.sql.reserve();
  try {
    await timeProbes(conn, s.db.workspaceId, s.warmProbes, emptyTiming(), { budgetMs: 20_000, atLeast: 0 });
    await timeProbes(conn, s.db.workspaceId, s.probes, into);
  } finally {
    conn.release();
  }
}

/**
 * Every size timed twice, in two passes that run the sizes in opposite orders (smallest first, then
 * largest first), all databases loaded beforehand: the timings of all sizes fall within minutes of
 * each other, and a steady drift of the shared machine's speed favours no size. (Interleaving sizes
 * more finely was tried and dropped: the largest database's reads evict the smaller ones' pages from
 * shared buffers, which slowed the 10k searches by a millisecond and flattered the growth.) Returns,
 * per size, both passes' timings together and each pass's own.
 */
async function timeBothWays(sized: readonly SizedDatabase[]): Promise<{ all: Timing; passes: Timing[] }[]> {
  const out = sized.map(() => ({ all: emptyTiming(), passes: [emptyTiming(), emptyTiming()] }));
  const order = sized.map((_, i) => i);
  for (const [pass, indexes] of [order, [...order].reverse()].entries()) {
    for (const i of indexes) {
      const timing = out[i]?.passes[pass] as Timing;
      await timeWarmed(sized[i] as SizedDatabase, timing);
      const all = out[i]?.all as Timing;
      all.ms.push(...timing.ms);
      all.rows.push(...timing.rows);
      all.rounds.push(...timing.rounds);
    }
  }
  return out;
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
      weights: CANDIDATE_SCORE_WEIGHTS,
    });
    const lines = explained ? await explained : [];
    return lines.map((l) => l['QUERY PLAN']).join('\n');
  } finally {
    await conn`rollback`.catch(() => {});
    conn.release();
  }
}

/**
 * The scorer's CPU per row, in µs: each of `probes` scores 25 generated namesakes, as one call per row
 * (scoreContactCandidate) and with the probe's side worked out once (contactScorer, what the lookup
 * uses). Best of three passes each.
 */
export function scoringMicroseconds(probes: readonly LookupProbe[]): { perRow: number; perSearch: number } {
  const random = rng(5);
  const rows = Array.from({ length: 2000 }, () => ({
    name: randomName(random),
    city: randomCity(random).city,
    phone: generatedPhone(1 + Math.floor(random() * 1e6)),
    email: null,
  }));
  const per = 25;
  const pass = (score: (probe: LookupProbe) => (row: (typeof rows)[number]) => unknown) => {
    const started = performance.now();
    let n = 0;
    for (const probe of probes) {
      const one = score(probe);
      for (let i = 0; i < per; i++) one(rows[n++ % rows.length] as (typeof rows)[number]);
    }
    return ((performance.now() - started) * 1000) / n;
  };
  const best = (score: Parameters<typeof pass>[0]) => Math.min(pass(score), pass(score), pass(score));
  return {
    perRow: best((probe) => (row) => scoreContactCandidate(probe, row)),
    perSearch: best((probe) => contactScorer(probe)),
  };
}

/**
 * A database per size, each loaded, analysed and checkpointed (lookups timed during the
 * checkpointer's writeback of a fresh million-row load would measure the disk, not the query).
 * Pushed into `sized` as they come, so that the caller drops what was made if one fails.
 */
async function loadSizes(sizes: readonly number[], queries: number, sized: SizedDatabase[]): Promise<void> {
  for (const size of sizes) {
    const db = await createBenchDatabase(`lookup${size}`);
    const entry: SizedDatabase = {
      size,
      db,
      probes: lookupProbes(queries, size),
      // Other probes (another seed) warm the cache and the connection, as a database in use would be.
      warmProbes: lookupProbes(queries, size, 99),
      loadSeconds: 0,
    };
    sized.push(entry);
    const started = Date.now();
    await generateContacts(db.sql, db.workspaceId, size);
    await db.sql`vacuum analyze contacts`;
    await db.sql`checkpoint`;
    entry.loadSeconds = (Date.now() - started) / 1000;
    console.log(`  ${size} contacts loaded in ${fmt(entry.loadSeconds, 0)} s`);
  }
}

/** One size's fresh-connection timing and plan, with its timed passes. */
async function finishSize(s: SizedDatabase, timed: { all: Timing; passes: Timing[] }): Promise<SizeResult> {
  const { all: timing, passes } = timed;
  // The same probes on a connection of its own, new: its prepared statements start with custom
  // plans (as after every reconnect of the worker pool), where the warmed one has generic ones.
  const freshSql = createSql(s.db.url, { max: 1, applicationName: 'crm-bench-fresh' });
  const fresh = await timeLookups(freshSql, s.db.workspaceId, s.probes).finally(() => freshSql.end());
  const probe = s.probes[1] ?? {
    name: 'Maria Garcia',
    city: 'Bogotá',
    phone: '+573001234567',
    email: 'x@y.z',
  };
  const plan = await explainLookup(s.db.sql, s.db.workspaceId, probe);
  console.log(
    `  ${s.size} contacts: p50 ${fmt(median(timing.ms), 2)} ms, ` +
      `p95 ${fmt(percentile(timing.ms, 95), 2)} ms, mean rows ${fmt(mean(timing.rows))}; ` +
      `fresh connection p50 ${fmt(median(fresh.ms), 2)} ms, p95 ${fmt(percentile(fresh.ms, 95), 2)} ms`,
  );
  return { size: s.size, timing, passes, fresh, plan, probe, loadSeconds: s.loadSeconds };
}

/** The section's markdown: method, table, growth, scorer's CPU, plans. */
function lookupBody(options: BenchOptions, queries: number, results: readonly SizeResult[]): string {
  const first = results[0];
  const last = results[results.length - 1];
  const growth = first && last ? p95(last.timing) / p95(first.timing) : Number.NaN;
  const passGrowth = (pass: number) => {
    const a = first?.passes[pass];
    const b = last?.passes[pass];
    return a && b ? `${fmt(p95(a), 2)} → ${fmt(p95(b), 2)} ms = ${fmt(p95(b) / p95(a), 1)}×` : '—';
  };
  const scoring = scoringMicroseconds(lookupProbes(queries, 1_000_000));
  const plans = results
    .map(
      (r) =>
        `<details><summary>EXPLAIN (ANALYZE, BUFFERS) at ${r.size.toLocaleString('en-US')} contacts, ` +
        `probe “${r.probe.name}”, ${r.probe.city}, ${r.probe.phone}</summary>\n\n\`\`\`\n${r.plan}\n\`\`\`\n</details>`,
    )
    .join('\n\n');
  return [
    stamp(options.command),
    '',
    methodText(queries),
    '',
    resultsTable(results),
    '',
    `- Growth of p95 from ${first?.size.toLocaleString('en-US')} to ${last?.size.toLocaleString('en-US')}: ` +
      `**${fmt(growth, 1)}×** (goal ≤ 3×), both passes together; pass 1 (smallest first) ${passGrowth(0)}, ` +
      `pass 2 (largest first) ${passGrowth(1)}. p95 at the largest size **${fmt(last ? p95(last.timing) : Number.NaN, 2)} ms** (goal ≤ 10 ms at 1M).`,
    `- The scorer's CPU per row (Node, ${queries} probes × 25 generated namesakes, best of 3): ` +
      `${fmt(scoring.perSearch, 1)} µs with the probe's side worked out once per search (\`contactScorer\`, what the lookup uses), ` +
      `${fmt(scoring.perRow, 1)} µs as one \`scoreContactCandidate\` call per row.`,
    '',
    plans,
  ].join('\n');
}

export async function lookupSection(options: BenchOptions): Promise<SectionReport> {
  const sizes = [10_000, 100_000, 1_000_000, 10_000_000].filter((n) => n <= options.contacts);
  const queries = options.quick ? 150 : 400;
  const sized: SizedDatabase[] = [];
  try {
    await loadSizes(sizes, queries, sized);
    const timed = await timeBothWays(sized);
    const results: SizeResult[] = [];
    for (const [i, s] of sized.entries()) {
      results.push(await finishSize(s, timed[i] as { all: Timing; passes: Timing[] }));
    }
    return {
      name: 'lookup',
      title: 'Contact lookup (fuzzy candidates)',
      body: lookupBody(options, queries, results),
    };
  } finally {
    for (const s of sized) await s.db.drop();
  }
}
