import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../src/client.ts';
import { loadMigrations, type Migration, MigrationChecksumError, migrate } from '../src/migrate.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

const TENANT_TABLES = [
  'users',
  'sessions',
  'login_attempts',
  'workspaces',
  'workspace_members',
  'contacts',
  'pipelines',
  'pipeline_stages',
  'products',
  'orders',
  'order_products',
  'integrations',
  'webhook_events',
  'contact_reviews',
  'reconcile_runs',
];

function migration(name: string, sql: string): Migration {
  return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
}

async function tableExists(sql: Sql, name: string): Promise<boolean> {
  const [row] = await sql<{ found: boolean }[]>`select to_regclass(${`public.${name}`}) is not null as found`;
  return row?.found ?? false;
}

async function recorded(sql: Sql): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`select name from schema_migrations order by name`;
  return rows.map((r) => r.name);
}

describe('migrations', () => {
  const dbs: TestDatabase[] = [];
  async function emptyDatabase(): Promise<TestDatabase> {
    const db = await createTestDatabase({ migrate: false });
    dbs.push(db);
    return db;
  }
  let files: Migration[];

  beforeAll(async () => {
    files = await loadMigrations();
  });
  afterAll(async () => {
    await Promise.all(dbs.map((db) => db.drop()));
  });

  it('finds the numbered migration files in order', () => {
    const names = files.map((m) => m.name);
    expect(names.length).toBeGreaterThanOrEqual(3);
    expect(names.slice(0, 3)).toEqual([
      '0001_roles_and_extensions.sql',
      '0002_tables.sql',
      '0003_row_level_security.sql',
    ]);
    expect([...names].sort()).toEqual(names);
  });

  it('applies every migration to an empty database, and a re-run applies nothing', async () => {
    const db = await emptyDatabase();
    expect(await tableExists(db.sql, 'contacts')).toBe(false);

    const first = await migrate(db.sql);
    expect(first.applied).toEqual(files.map((m) => m.name));
    expect(first.skipped).toEqual([]);
    for (const table of TENANT_TABLES) expect(await tableExists(db.sql, table), table).toBe(true);
    const extensions = await db.sql<{ extname: string }[]>`select extname from pg_extension`;
    expect(extensions.map((e) => e.extname)).toEqual(expect.arrayContaining(['pg_trgm', 'fuzzystrmatch']));
    expect(await recorded(db.sql)).toEqual(files.map((m) => m.name));

    const second = await migrate(db.sql);
    expect(second.applied).toEqual([]);
    expect(second.skipped).toEqual(files.map((m) => m.name));
    expect(await recorded(db.sql)).toEqual(files.map((m) => m.name));
  });

  it.each([2, 5])(
    '%i runners started at once on an empty database apply each migration exactly once',
    async (n) => {
      const db = await emptyDatabase();
      // One pool (one connection) per runner, like separate processes.
      const pools = Array.from({ length: n }, () => createSql(db.url, { max: 1 }));
      try {
        const results = await Promise.all(pools.map((pool) => migrate(pool)));
        const applied = results.flatMap((r) => r.applied).sort();
        expect(applied).toEqual(files.map((m) => m.name));
        for (const r of results)
          expect([...r.applied, ...r.skipped].sort()).toEqual(files.map((m) => m.name));
      } finally {
        await Promise.all(pools.map((pool) => pool.end()));
      }
      const rows = await db.sql<{ name: string; n: number }[]>`
      select name, count(*)::int as n from schema_migrations group by name order by name`;
      expect(rows).toEqual(files.map((m) => ({ name: m.name, n: 1 })));
    },
  );

  it('migrates several fresh databases of one cluster at once (roles are cluster-wide)', async () => {
    const many = await Promise.all([emptyDatabase(), emptyDatabase(), emptyDatabase()]);
    const results = await Promise.all(many.map((db) => migrate(db.sql)));
    for (const r of results) expect(r.applied).toEqual(files.map((m) => m.name));
  });

  it('compresses webhook bodies with LZ4 where the server has it (else pglz, as before)', async () => {
    const db = await createTestDatabase();
    dbs.push(db);
    const [row] = await db.sql<{ compression: string; hasLz4: boolean }[]>`
      select a.attcompression::text as compression,
             (select 'lz4' = any (enumvals) from pg_settings where name = 'default_toast_compression') as "hasLz4"
      from pg_attribute a
      where a.attrelid = 'public.webhook_events'::regclass and a.attname = 'payload'`;
    expect(row?.compression).toBe(row?.hasLz4 ? 'l' : '');
  });

  it('folds accents as intended, in the function and in the stored keys of a contact', async () => {
    const db = await emptyDatabase();
    // A contact stored part-way through the migrations keeps keys that agree with the final function.
    await migrate(
      db.sql,
      files.filter((m) => m.name < '0006'),
    );
    const [ws] = await db.sql<
      { id: string }[]
    >`insert into workspaces (name, slug) values ('W', 'w') returning id`;
    await db.sql`
      insert into contacts (workspace_id, name, city) values (${ws?.id ?? ''}, 'Ñandú Múñoz', 'Cúcuta')`;
    await migrate(db.sql);

    const [folded] = await db.sql<
      { s: string }[]
    >`select app.crm_normalize(${'ÁÉÍÓÚ áàâäãåā ñÑ çÇ ýÿ Ü-ö, 9!'}) as s`;
    expect(folded?.s).toBe('aeiou aaaaaaa nn cc yy u o 9');
    const [contact] = await db.sql<{ name_norm: string; city_norm: string; name_phonetic: string[] }[]>`
      select name_norm, city_norm, name_phonetic from contacts`;
    expect(contact).toMatchObject({ name_norm: 'nandu munoz', city_norm: 'cucuta' });
    const [keys] = await db.sql<{ k: string[] }[]>`select app.crm_phonetic_keys('Nandu Munoz') as k`;
    expect(contact?.name_phonetic).toEqual(keys?.k);
  });

  it('refuses a migration whose file changed after it was applied', async () => {
    const db = await emptyDatabase();
    const one = migration('0001_one.sql', 'create table one (id int);');
    const two = migration('0002_two.sql', 'create table two (id int);');
    expect((await migrate(db.sql, [one])).applied).toEqual(['0001_one.sql']);

    const changed = migration('0001_one.sql', 'create table one (id int, extra text);');
    const error = await migrate(db.sql, [changed, two]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationChecksumError);
    expect((error as MigrationChecksumError).migration).toBe('0001_one.sql');
    // Nothing after the refused file ran.
    expect(await tableExists(db.sql, 'two')).toBe(false);
    expect(await recorded(db.sql)).toEqual(['0001_one.sql']);

    // The unchanged file is still accepted and the next one applies.
    expect(await migrate(db.sql, [one, two])).toEqual({
      applied: ['0002_two.sql'],
      skipped: ['0001_one.sql'],
    });
  });

  it('rolls a failing migration back entirely and does not record it', async () => {
    const db = await emptyDatabase();
    const ok = migration('0001_ok.sql', 'create table ok (id int);');
    const bad = migration(
      '0002_bad.sql',
      'create table half (id int); insert into half values (1); select 1 / 0; create table never (id int);',
    );
    await expect(migrate(db.sql, [ok, bad])).rejects.toThrow(/0002_bad\.sql.*division by zero/);
    expect(await tableExists(db.sql, 'ok')).toBe(true);
    expect(await tableExists(db.sql, 'half')).toBe(false);
    expect(await tableExists(db.sql, 'never')).toBe(false);
    expect(await recorded(db.sql)).toEqual(['0001_ok.sql']);

    // The advisory lock was released and the connection is usable: a fixed file applies.
    const fixed = migration('0002_bad.sql', 'create table half (id int);');
    expect(await migrate(db.sql, [ok, fixed])).toEqual({
      applied: ['0002_bad.sql'],
      skipped: ['0001_ok.sql'],
    });
    expect(await tableExists(db.sql, 'half')).toBe(true);
  });
});
