import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from './client.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

/** Arbitrary but fixed: every runner of this project takes the same advisory lock. */
const MIGRATION_LOCK_KEY = 7_311_524_019;

const MAX_ATTEMPTS = 8;

/** Errors of concurrent transactions (on shared catalogs, say) that a retry resolves. */
function isTransient(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code === '40001' || code === '40P01') return true; // serialization failure, deadlock
  return (
    code === 'XX000' && typeof message === 'string' && /tuple concurrently (updated|deleted)/.test(message)
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type Migration = { name: string; sql: string; checksum: string };
export type MigrationResult = { applied: string[]; skipped: string[] };

export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (name) => {
      const sql = await readFile(join(dir, name), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

export class MigrationChecksumError extends Error {
  constructor(readonly migration: string) {
    super(
      `Migration ${migration} was changed after it was applied. Applied migrations are immutable: ` +
        'add a new numbered migration instead.',
    );
    this.name = 'MigrationChecksumError';
  }
}

/**
 * Applies the pending migrations in order, each in its own transaction, recording name and checksum.
 * Safe to start from several processes at once: they queue on one advisory lock, and whoever comes
 * second finds the work done. A migration whose file changed since it ran is refused.
 */
export async function migrate(sql: Sql, migrations?: Migration[]): Promise<MigrationResult> {
  const all = migrations ?? (await loadMigrations());
  const reserved = await sql.reserve();
  try {
    await reserved`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    await reserved`
      create table if not exists schema_migrations (
        name text primary key,
        checksum text not null,
        applied_at timestamptz not null default now()
      )`;
    const rows = await reserved<
      { name: string; checksum: string }[]
    >`select name, checksum from schema_migrations`;
    const done = new Map(rows.map((r) => [r.name, r.checksum]));
    const result: MigrationResult = { applied: [], skipped: [] };
    for (const m of all) {
      const previous = done.get(m.name);
      if (previous !== undefined) {
        if (previous !== m.checksum) throw new MigrationChecksumError(m.name);
        result.skipped.push(m.name);
        continue;
      }
      for (let attempt = 1; ; attempt++) {
        await reserved.unsafe('begin');
        try {
          await reserved.unsafe(m.sql);
          await reserved`insert into schema_migrations (name, checksum) values (${m.name}, ${m.checksum})`;
          await reserved.unsafe('commit');
          break;
        } catch (error) {
          await reserved.unsafe('rollback');
          // Roles are cluster-wide: runners migrating *other* databases of the same cluster (which
          // the advisory lock does not serialise) can collide on them. The transaction rolled back
          // whole, so running it again is safe.
          if (attempt < MAX_ATTEMPTS && isTransient(error)) {
            await sleep(25 * attempt + Math.random() * 50 * attempt);
            continue;
          }
          throw new Error(`Migration ${m.name} failed: ${(error as Error).message}`, { cause: error });
        }
      }
      result.applied.push(m.name);
    }
    return result;
  } finally {
    await reserved`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => {});
    reserved.release();
  }
}

/**
 * The migrations of this build not yet applied to the database (empty: at head), asked as the
 * migrating role (the only one that may read schema_migrations). For readiness checks.
 */
export async function pendingMigrations(sql: Sql, migrations?: Migration[]): Promise<string[]> {
  const all = migrations ?? (await loadMigrations());
  const rows = await sql<{ name: string }[]>`
    select name from schema_migrations where name in ${sql(all.map((m) => m.name))}`;
  const done = new Set(rows.map((r) => r.name));
  return all.map((m) => m.name).filter((name) => !done.has(name));
}
