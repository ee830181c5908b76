import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import type { Sql, Tx } from '../src/client.ts';
import { transaction } from '../src/rls.ts';

/** The SQLSTATE of the PostgreSQL error a promise rejects with; fails if it resolves or throws anything else. */
export async function pgErrorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof postgres.PostgresError) return error.code;
    throw error;
  }
  throw new Error('expected a PostgreSQL error, but the statement succeeded');
}

/** Thrown out of a transaction to roll it back while carrying a value out. */
class Rollback<T> extends Error {
  constructor(readonly value: T) {
    super('rollback');
  }
}

/**
 * Runs `probe` inside a transaction opened by `open` (withUser, withWorkspace, …) and always rolls it
 * back, returning what the probe returned: probes may write freely without disturbing the fixtures.
 */
export async function rolledBack<T>(
  open: (fn: (tx: Tx) => Promise<never>) => Promise<unknown>,
  probe: (tx: Tx) => Promise<T>,
): Promise<T> {
  try {
    await open(async (tx) => {
      throw new Rollback(await probe(tx));
    });
  } catch (error) {
    if (error instanceof Rollback) return error.value as T;
    throw error;
  }
  throw new Error('unreachable: the transaction was not rolled back');
}

/** A transaction as a role with the given settings, opened by hand (for the "no user" actors). */
export function asRole(sql: Sql, role: string, settings: Record<string, string> = {}) {
  return <T>(fn: (tx: Tx) => Promise<T>): Promise<T> =>
    transaction(sql, async (tx) => {
      await tx`select set_config('role', ${role}, true)`;
      for (const [name, value] of Object.entries(settings)) {
        await tx`select set_config(${name}, ${value}, true)`;
      }
      return fn(tx);
    });
}

/** The rows of `table` this transaction has updated so far, and how many of those updates were HOT. */
export async function tableUpdates(tx: Tx, table: string): Promise<{ updated: number; hot: number }> {
  const [row] = await tx<{ updated: number; hot: number }[]>`
    select n_tup_upd::int as updated, n_tup_hot_upd::int as hot from pg_stat_xact_user_tables
    where relid = ${`public.${table}`}::regclass`;
  return { updated: row?.updated ?? 0, hot: row?.hot ?? 0 };
}

export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}

/** A random valid E.164 Colombian mobile number. */
export function randomPhone(): string {
  return `+57300${String(Math.floor(Math.random() * 10_000_000)).padStart(7, '0')}`;
}
