/**
 * The lookup section's types, summaries and report text (the measuring is in lookup.ts).
 */
import { CANDIDATE_NAME_SIMILARITY } from '@crm/db/worker';
import { fmt, markdownTable, median, percentile } from '../lib/stats.ts';

export type Timing = { ms: number[]; rows: number[]; rounds: number[] };

/** What an order says about its customer: the lookup's input. */
export type LookupProbe = { name: string; city: string; phone: string; email: string };

/** Each size gets at most this long per query kind (at least 20 queries): a slow query stays bounded. */
export const BUDGET_MS = Number(process.env.BENCH_LOOKUP_BUDGET_SECONDS ?? 60) * 1000;

export const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Probes whose phone is a generated contact's with one digit changed (every third, from the first). */
export const nearBlock = (xs: readonly number[]) => xs.filter((_, i) => i % 3 === 0);
export const elsewhere = (xs: readonly number[]) => xs.filter((_, i) => i % 3 !== 0);
/** Of each pass's values (probes in their order), those `pick` keeps, together. */
export const ofPasses = (
  passes: readonly Timing[],
  key: keyof Timing,
  pick: (xs: readonly number[]) => number[],
) => passes.flatMap((t) => pick(t[key]));

/** What one size measured. */
export type SizeResult = {
  size: number;
  timing: Timing;
  passes: Timing[];
  fresh: Timing;
  plan: string;
  probe: LookupProbe;
  loadSeconds: number;
};

export const p95 = (t: Timing) => percentile(t.ms, 95);

/** The table of every size. */
export function resultsTable(results: readonly SizeResult[]): string {
  const first = results[0];
  return markdownTable(
    [
      'contacts',
      'queries',
      'p50 (ms)',
      'p95 (ms)',
      'p99 (ms)',
      'max (ms)',
      'p95 vs 10k',
      'fresh connection: p50 / p95 (ms)',
      'p95, phone 1 digit off a contact’s (ms)',
      'p95, other phones (ms)',
      'rows (mean)',
      'rows, phone 1 digit off (mean)',
      'searches that asked again',
    ],
    results.map((r) => [
      r.size.toLocaleString('en-US'),
      String(r.timing.ms.length),
      fmt(median(r.timing.ms), 2),
      fmt(p95(r.timing), 2),
      fmt(percentile(r.timing.ms, 99), 2),
      fmt(Math.max(...r.timing.ms), 2),
      first ? `${fmt(p95(r.timing) / p95(first.timing), 1)}×` : '—',
      `${fmt(median(r.fresh.ms), 2)} / ${fmt(p95(r.fresh), 2)}`,
      fmt(percentile(ofPasses(r.passes, 'ms', nearBlock), 95), 2),
      fmt(percentile(ofPasses(r.passes, 'ms', elsewhere), 95), 2),
      fmt(mean(r.timing.rows)),
      fmt(mean(ofPasses(r.passes, 'rows', nearBlock))),
      String(r.timing.rounds.filter((n) => n > 1).length),
    ]),
  );
}

/** What the section measured and how, for BENCHMARKS.md. */
export function methodText(queries: number): string {
  return (
    "The worker's query (`findContactCandidatesByName`, migrations 0009 and 0012–0015: same city and sounding alike " +
    `or ≥ ${CANDIDATE_NAME_SIMILARITY.sameCity} similar (the trigram index of the city's bucket of 64), or a near phone (phonesAreNear) with a name ≥ 0.5 similar or sharing a key), as apply-order runs it ` +
    '(`findBestContactCandidate`: up to 25 rows by an upper bound of the score, scored; asked again with ' +
    '8× the limit when the rows cut might win) as app_worker for one workspace holding all the contacts. ' +
    `Up to ${queries} probes per size (names: a third as generated, a third misspelt once, a third twice; ` +
    "a city from the generator's 50; a fresh email; a phone: for a third a generated contact's phone " +
    'with one digit changed, else a random number of the block the contacts’ phones fill, +57 300… to 319…); at most ' +
    `${BUDGET_MS / 1000} s of queries per size and pass, at least 20. Each size has a database of its own, all loaded and checkpointed first; ` +
    'before each timing the cache and the connection are warmed by as many other probes (so its prepared statements have their generic plans); ' +
    'then every size is timed in two passes, smallest first and then largest first, so that a steady drift of the shared ' +
    'machine’s speed favours no size (the table pools both passes); and again on a new connection per size (custom plans ' +
    'first, as after a reconnect). Contacts generated in SQL from ' +
    '146 given names and 136 surnames (Spanish and English), 1–2 of each, 50 cities, unique phones spread ' +
    'over the 200 million numbers +57 300… to 319… (at 1M, 0.5% of them taken).'
  );
}
