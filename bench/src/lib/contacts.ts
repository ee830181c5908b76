/**
 * The bench's contacts, generated inside PostgreSQL (generate_series over arrays of Spanish and English
 * names and cities) as the migrating superuser, in a few statements sent on several connections at
 * once: the contacts table's secondary indexes are dropped, the rows inserted in as many chunks as
 * connections, then the indexes re-created (same definitions) in parallel, longest first, each with
 * a large maintenance_work_mem, then ANALYZE. Building an index once over all the rows is far cheaper
 * than maintaining it row by row (a new contact evaluates every index expression and predicate).
 */
import { availableParallelism } from 'node:os';
import type { Sql } from '@crm/db';
import { CITIES, FIRST_NAMES, generatedPhoneSql, LAST_NAMES, sqlTextArray } from './names.ts';

/** How many statements the loader runs at once: BENCH_LOAD_CONNECTIONS, else the machine's cores. */
function loadConnections(sql: Sql): number {
  const wanted = Number(process.env.BENCH_LOAD_CONNECTIONS) || availableParallelism();
  const pool = Number(sql.options.max) || 1;
  return Math.max(1, Math.min(wanted, pool, 8));
}

/** Runs `tasks` on up to `width` connections of `sql` at once, in their order. */
async function inParallel(width: number, tasks: (() => Promise<unknown>)[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++];
      if (task) await task();
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
}

/** The insert of generated rows `from`…`to` (1-based, of this load), phones numbered after `base`. */
function insertSql(workspaceId: string, base: number, from: number, to: number): string {
  const first = `(${sqlTextArray(FIRST_NAMES)})`;
  const last = `(${sqlTextArray(LAST_NAMES)})`;
  const cities = `(${sqlTextArray(CITIES.map((c) => c[0]))})`;
  const departments = `(${sqlTextArray(CITIES.map((c) => c[1]))})`;
  // Deterministic pseudo-random picks from hashes of the row number (same data every run).
  return `
    insert into contacts (workspace_id, name, phone, email, city, department, created_at)
    select '${workspaceId}'::uuid,
           f1 || case when h2 % 10 < 3 then ' ' || f2 else '' end || ' ' || l1
              || case when h3 % 10 < 6 then ' ' || l2 else '' end,
           ${generatedPhoneSql(`${base} + g`)},
           case when h1 % 10 < 7 then lower(translate(f1, 'áéíóúñÁÉÍÓÚ', 'aeiounAEIOU')) || '.'
                || lower(translate(l1, 'áéíóúñÁÉÍÓÚ', 'aeiounAEIOU')) || g || '@example.com' end,
           ${cities}[1 + ci], ${departments}[1 + ci],
           now() - make_interval(secs => g)
    from (
      select g,
             abs(hashint4(g)) as h1, abs(hashint4(g + 7919)) as h2, abs(hashint4(g + 104729)) as h3,
             ${first}[1 + abs(hashint4(g * 3)) % ${FIRST_NAMES.length}] as f1,
             ${first}[1 + abs(hashint4(g * 5 + 1)) % ${FIRST_NAMES.length}] as f2,
             ${last}[1 + abs(hashint4(g * 7 + 2)) % ${LAST_NAMES.length}] as l1,
             ${last}[1 + abs(hashint4(g * 11 + 3)) % ${LAST_NAMES.length}] as l2,
             abs(hashint4(g * 13 + 4)) % ${CITIES.length} as ci
      from generate_series(${from}, ${to}) as g
    ) s`;
}

/**
 * `count` more contacts in the workspace: 1–2 given names and 1–2 surnames, unique +57 mobile phones
 * spread over the +57 300–319 block (generatedPhone), emails for 70%, 50 cities. The same rows as
 * one `insert … select … from generate_series(1, count)` would write.
 */
export async function generateContacts(sql: Sql, workspaceId: string, count: number): Promise<void> {
  const width = loadConnections(sql);
  const indexes = await sql<{ name: string; def: string }[]>`
    select i.relname as name, pg_get_indexdef(i.oid) as def
    from pg_index x join pg_class i on i.oid = x.indexrelid
    where x.indrelid = 'public.contacts'::regclass and not x.indisunique and not x.indisprimary`;
  for (const ix of indexes) await sql.unsafe(`drop index ${ix.name}`);
  const [{ base } = { base: 0 }] = await sql<{ base: number }[]>`select count(*)::int as base from contacts`;
  const chunk = Math.ceil(count / width);
  await inParallel(
    width,
    Array.from(
      { length: Math.ceil(count / chunk) },
      (_, c) => () =>
        sql.unsafe(insertSql(workspaceId, base, c * chunk + 1, Math.min(count, (c + 1) * chunk))),
    ),
  );
  // Expression GIN indexes first (their functions run once per row: the slowest builds), then the
  // rest, so that the last to finish is a short one.
  const cost = (def: string) => (/using gin \(app\./i.test(def) ? 2 : /using gin/i.test(def) ? 1 : 0);
  const ordered = [...indexes].sort((a, b) => cost(b.def) - cost(a.def));
  await inParallel(
    width,
    ordered.map(
      (ix) => () =>
        sql.begin(async (tx) => {
          await tx`select set_config('maintenance_work_mem', '512MB', true)`;
          await tx.unsafe(ix.def);
        }),
    ),
  );
  await sql`analyze contacts`;
}
