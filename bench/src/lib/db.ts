/**
 * Bench databases: each section creates its own database on DATABASE_URL's cluster (default: the
 * local PostgreSQL), migrates and seeds it like `npm start` would, and drops it afterwards.
 */
import { randomBytes } from 'node:crypto';
import {
  createSql,
  type EncryptionKey,
  generateEncryptionKey,
  migrate,
  parseEncryptionKey,
  type Sql,
  seed,
  withDatabaseName,
} from '@crm/db';
import { CITIES, FIRST_NAMES, generatedPhoneSql, LAST_NAMES, sqlTextArray } from './names.ts';

export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEMO_SECRET = 'demo-webhook-secret';
export const DEMO_SHOP = 'demo-store.myshopify.com';

export function adminUrl(): string {
  return process.env.DATABASE_URL || DEFAULT_ADMIN_URL;
}

export type BenchDatabase = {
  name: string;
  url: string;
  /** As the migrating superuser (bypasses RLS): arranging and inspecting. */
  sql: Sql;
  /** The credentials key the app processes get through APP_ENCRYPTION_KEY. */
  keyText: string;
  key: EncryptionKey;
  workspaceId: string;
  drop: () => Promise<void>;
};

/** A new database, migrated and seeded with the Demo Store (secret `demo-webhook-secret`). */
export async function createBenchDatabase(
  label: string,
  options: { admin?: string; poolSize?: number } = {},
): Promise<BenchDatabase> {
  const admin = options.admin ?? adminUrl();
  // The creating process's pid is in the name, so a later run drops only what a dead run left.
  const name = `crm_bench_${label}_p${process.pid}_${randomBytes(4).toString('hex')}`;
  const a = createSql(admin, { max: 1 });
  await a.unsafe(`create database ${name}`);
  await a.end();
  const url = withDatabaseName(admin, name);
  const sql = createSql(url, { max: options.poolSize ?? 4, applicationName: 'crm-bench' });
  await migrate(sql);
  const keyText = generateEncryptionKey();
  const key = parseEncryptionKey(keyText);
  const seeded = await seed(sql, { key, webhookSecret: DEMO_SECRET });
  return {
    name,
    url,
    sql,
    keyText,
    key,
    workspaceId: seeded.workspaceId,
    drop: async () => {
      await sql.end({ timeout: 5 }).catch(() => {});
      const d = createSql(admin, { max: 1 });
      await d.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
      await d.end();
    },
  };
}

/** Whether the bench process that created a database (pid in its name) is still running. */
function creatorAlive(datname: string): boolean {
  const pid = Number(/_p(\d+)_[0-9a-f]+$/.exec(datname)?.[1] ?? Number.NaN);
  if (!Number.isInteger(pid) || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Drops bench databases left behind by an interrupted run (not those of a bench still running). */
export async function dropLeftoverBenchDatabases(admin = adminUrl()): Promise<string[]> {
  const a = createSql(admin, { max: 1 });
  try {
    const rows = (
      await a<{ datname: string }[]>`
        select datname from pg_database where datname like 'crm\_bench\_%'`
    ).filter((r) => !creatorAlive(r.datname));
    for (const r of rows) await a.unsafe(`drop database if exists ${r.datname} with (force)`);
    return rows.map((r) => r.datname);
  } finally {
    await a.end();
  }
}

/**
 * `count` contacts in the workspace, generated in SQL (generate_series over arrays of Spanish and
 * English names and cities): 1–2 given names and 1–2 surnames, unique +57 mobile phones spread over
 * the +57 300–319 block (generatedPhone), emails for 70%. Secondary indexes are dropped and re-created around the load (same definitions), then ANALYZE.
 */
export async function generateContacts(sql: Sql, workspaceId: string, count: number): Promise<void> {
  const indexes = await sql<{ name: string; def: string }[]>`
    select i.relname as name, pg_get_indexdef(i.oid) as def
    from pg_index x join pg_class i on i.oid = x.indexrelid
    where x.indrelid = 'public.contacts'::regclass and not x.indisunique and not x.indisprimary`;
  for (const ix of indexes) await sql.unsafe(`drop index ${ix.name}`);
  const first = `(${sqlTextArray(FIRST_NAMES)})`;
  const last = `(${sqlTextArray(LAST_NAMES)})`;
  const cities = `(${sqlTextArray(CITIES.map((c) => c[0]))})`;
  const departments = `(${sqlTextArray(CITIES.map((c) => c[1]))})`;
  const [{ base } = { base: 0 }] = await sql<{ base: number }[]>`select count(*)::int as base from contacts`;
  // Deterministic pseudo-random picks from hashes of the row number (same data every run).
  await sql.unsafe(`
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
      from generate_series(1, ${count}) as g
    ) s`);
  for (const ix of indexes) await sql.unsafe(ix.def);
  await sql`analyze contacts`;
}

/** `count` active products with SKUs BENCH-00001… and prices, in the workspace. */
export async function generateProducts(sql: Sql, workspaceId: string, count: number): Promise<void> {
  await sql`
    insert into products (workspace_id, sku, title, price, is_active)
    select ${workspaceId}::uuid, 'BENCH-' || lpad(g::text, 5, '0'),
           (array['Sérum', 'Crema', 'Protector', 'Jabón', 'Champú', 'Aceite', 'Loción', 'Mascarilla'])[1 + g % 8]
             || ' ' || (array['Vitamina C', 'hidratante', 'FPS 50', 'de avena', 'anticaspa', 'de coco', 'corporal', 'facial'])[1 + (g / 8) % 8]
             || ' ' || (10 + g % 490) || ' ml',
           (10000 + (g * 37) % 190000)::numeric(12,2), true
    from generate_series(1, ${count}) as g`;
  await sql`analyze products`;
}
