import type { Db } from '../rls.ts';
import { queueOwnerPool } from './tx.ts';

/**
 * The figures GET /metrics reports about the queues and the database's sessions. All are cheap: the
 * webhook events' figures come from the partial index of pending events (webhook_events_due_idx,
 * migration 0022), graphile-worker (reconcile runs) deletes finished jobs, so its table holds only
 * what is queued, running or failed; pg_stat_activity is in memory. Run as the queue's owner.
 */
export type QueueStats = {
  /** Due now and not taken. */
  pending: number;
  /** Taken by a worker. */
  running: number;
  /** Waiting for a later run_at (retries with backoff). */
  scheduled: number;
  /** Jobs out of attempts (reconcile runs; a webhook event out of attempts is `failed`, not queued). */
  exhausted: number;
  /** How long the oldest pending event or job has been due, in seconds (0 when none is). */
  oldestPendingSeconds: number;
};

export async function readQueueStats(db: Db): Promise<QueueStats> {
  const sql = queueOwnerPool(db);
  const [row] = await sql<
    { pending: number; running: number; scheduled: number; exhausted: number; oldest: number }[]
  >`
    with events as (
      select count(*) filter (where locked_by is null and run_at <= now()) as pending,
             count(*) filter (where locked_by is not null) as running,
             count(*) filter (where locked_by is null and run_at > now()) as scheduled,
             min(run_at) filter (where locked_by is null and run_at <= now()) as oldest
      from webhook_events where status = 'pending'
    ), jobs as (
      select count(*) filter (where locked_at is null and run_at <= now() and attempts < max_attempts) as pending,
             count(*) filter (where locked_at is not null) as running,
             count(*) filter (where locked_at is null and run_at > now() and attempts < max_attempts) as scheduled,
             count(*) filter (where attempts >= max_attempts and locked_at is null) as exhausted,
             min(run_at) filter (where locked_at is null and run_at <= now() and attempts < max_attempts) as oldest
      from graphile_worker._private_jobs
    )
    select (e.pending + j.pending)::int as pending,
           (e.running + j.running)::int as running,
           (e.scheduled + j.scheduled)::int as scheduled,
           j.exhausted::int as exhausted,
           coalesce(extract(epoch from now() - least(e.oldest, j.oldest)), 0)::float8 as oldest
    from events e, jobs j`;
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
