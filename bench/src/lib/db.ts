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

/** Generated contacts (bench/src/lib/contacts.ts), here too for the sections that load them. */
export { generateContacts } from './contacts.ts';

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
