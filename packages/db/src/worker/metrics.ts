import type { Db } from '../rls.ts';
import { queueOwnerPool } from './tx.ts';

/**
 * The figures GET /metrics reports about the job queue and the database's sessions. Both are cheap:
 * graphile-worker deletes finished jobs, so its table holds only what is queued, running or failed;
 * pg_stat_activity is in memory. Run as the queue's owner (graphile-worker's schema is theirs).
 */
export type QueueStats = {
  /** Due now and not taken. */
  pending: number;
  /** Taken by a worker. */
  running: number;
  /** Waiting for a later run_at (retries with backoff). */
  scheduled: number;
  /** Out of attempts (their event is `failed`). */
  exhausted: number;
  /** How long the oldest pending job has been due, in seconds (0 when none is). */
  oldestPendingSeconds: number;
};

export async function readQueueStats(db: Db): Promise<QueueStats> {
  const sql = queueOwnerPool(db);
  const [row] = await sql<
    { pending: number; running: number; scheduled: number; exhausted: number; oldest: number }[]
  >`
    select count(*) filter (where locked_at is null and run_at <= now() and attempts < max_attempts)::int as pending,
           count(*) filter (where locked_at is not null)::int as running,
           count(*) filter (where locked_at is null and run_at > now() and attempts < max_attempts)::int as scheduled,
           count(*) filter (where attempts >= max_attempts and locked_at is null)::int as exhausted,
           coalesce(extract(epoch from now() - min(run_at)
             filter (where locked_at is null and run_at <= now() and attempts < max_attempts)), 0)::float8 as oldest
    from graphile_worker._private_jobs`;
  return {
    pending: row?.pending ?? 0,
    running: row?.running ?? 0,
    scheduled: row?.scheduled ?? 0,
    exhausted: row?.exhausted ?? 0,
    oldestPendingSeconds: row?.oldest ?? 0,
  };
}

export type PoolSessions = { pool: string; state: string; count: number }[];

/**
 * This database's sessions whose application_name starts with `prefix` (the pools of this app are
 * named `<prefix>-user`, `-worker`, `-ingest`, …), by pool and state (`active`, `idle`, `idle in
 * transaction`; `unknown` where the role may not see another role's state).
 */
export async function readPoolSessions(db: Db, prefix: string): Promise<PoolSessions> {
  const sql = queueOwnerPool(db);
  return sql<PoolSessions>`
    select substr(application_name, length(${prefix}) + 2) as pool,
           coalesce(state, 'unknown') as state,
           count(*)::int as count
    from pg_stat_activity
    where datname = current_database() and application_name like ${`${prefix}-%`}
    group by 1, 2
    order by 1, 2`;
}
