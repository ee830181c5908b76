import type { Db } from '../rls.ts';
import { queueOwnerPool } from './tx.ts';

/** A job running or due now: locked, or due with attempts left (a retry scheduled for later is not). */
const BUSY_JOB = 'locked_at is not null or (run_at <= now() and attempts < max_attempts)';
/** A webhook event running (leased) or due now (a retry scheduled for later is not). */
const BUSY_EVENT = "status = 'pending' and (locked_by is not null or run_at <= now())";

/**
 * How many jobs (graphile-worker's: reconcile runs) and webhook events are running or due now, not
 * counting retries scheduled for later, nor jobs that exhausted their attempts. Runs as the queue's
 * owner (graphile-worker's schema is theirs; webhook events of every workspace).
 */
export async function countBusyJobs(db: Db): Promise<number> {
  const sql = queueOwnerPool(db);
  const [row] = await sql<{ n: number }[]>`
    select (select count(*) from graphile_worker._private_jobs where ${sql.unsafe(BUSY_JOB)})::int
         + (select count(*) from webhook_events where ${sql.unsafe(BUSY_EVENT)})::int as n`;
  return row?.n ?? 0;
}

/**
 * The jobs and events countBusyJobs counts, one line each (locked by whom for how long, or due since
 * when, and its last error); the first 20 of each.
 */
export async function describeBusyJobs(db: Db): Promise<string[]> {
  const sql = queueOwnerPool(db);
  const rows = await sql<{ line: string }[]>`
    (select format('job %s %s: %s, attempt %s/%s, last error %s', j.id, t.identifier,
             case when locked_at is not null
               then format('locked by %s for %s s', locked_by, round(extract(epoch from now() - locked_at)::numeric, 1))
               else format('due %s s ago', round(extract(epoch from now() - run_at)::numeric, 1)) end,
             attempts, max_attempts, coalesce(left(last_error, 200), 'none')) as line
    from graphile_worker._private_jobs as j
    left join graphile_worker._private_tasks as t on t.id = j.task_id
    where ${sql.unsafe(BUSY_JOB)}
    order by j.id limit 20)
    union all
    (select format('event %s %s: %s, attempt %s, last error %s', e.id, e.topic,
             case when locked_by is not null
               then format('leased by %s for %s s more', locked_by, round(extract(epoch from run_at - now())::numeric, 1))
               else format('due %s s ago', round(extract(epoch from now() - run_at)::numeric, 1)) end,
             attempts, coalesce(left(last_error, 200), 'none')) as line
    from webhook_events as e
    where ${sql.unsafe(BUSY_EVENT)}
    order by e.run_at limit 20)`;
  return rows.map((r) => r.line);
}

/**
 * What every session of this database is doing (application, state, wait, how long, statement), for
 * the report of a queue that stays busy: a worker stuck on a lock, idle in a transaction, or with no
 * session at all (waiting in the process) looks different here. Needs a role that may see the other
 * sessions' statements (the owner in tests and tools).
 */
export async function describeDatabaseSessions(db: Db): Promise<string[]> {
  const sql = queueOwnerPool(db);
  const rows = await sql<{ line: string }[]>`
    select format('session %s %s as %s: %s%s, transaction %s s, state %s s: %s', pid,
             coalesce(nullif(application_name, ''), '?'), usename, coalesce(state, '?'),
             coalesce(' waiting on ' || wait_event_type || '/' || wait_event, ''),
             coalesce(round(extract(epoch from now() - xact_start)::numeric, 1)::text, '-'),
             coalesce(round(extract(epoch from now() - state_change)::numeric, 1)::text, '-'),
             left(regexp_replace(coalesce(query, ''), '[[:space:]]+', ' ', 'g'), 120)) as line
    from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid()
    order by application_name, pid`;
  return rows.map((r) => r.line);
}

/** Releases every job locked by these worker pools, which must no longer be running. */
export async function forceUnlockWorkers(db: Db, workerIds: string[]): Promise<void> {
  if (workerIds.length > 0)
    await queueOwnerPool(db)`select graphile_worker.force_unlock_workers(${workerIds}::text[])`;
}

/** A job-runner process as recorded in job_runners.processes (migration 0011). */
export type JobRunnerProcess = { id: string; host: string; pid: number };

/**
 * The heartbeat of a job-runner process: records (or refreshes) its row with the graphile-worker
 * pools it runs now. Returns false if the row had to be created anew — on the first beat, or after
 * another runner judged this process dead and released its jobs.
 */
export async function beatJobRunner(
  db: Db,
  runner: JobRunnerProcess,
  poolIds: readonly string[],
): Promise<boolean> {
  const [row] = await queueOwnerPool(db)<{ inserted: boolean }[]>`
    insert into job_runners.processes as p (id, host, pid, pool_ids)
    values (${runner.id}, ${runner.host}, ${runner.pid}, ${[...poolIds]}::text[])
    on conflict (id) do update set pool_ids = excluded.pool_ids, beat_at = now()
    returning (xmax = 0) as inserted`;
  return row?.inserted === false;
}

/** Forgets a job-runner process that stopped cleanly (its workers released their jobs themselves). */
export async function removeJobRunner(db: Db, id: string): Promise<void> {
  await queueOwnerPool(db)`delete from job_runners.processes where id = ${id}`;
}

/**
 * Job-runner processes other than `selfId` that look dead now: no heartbeat for `silentSeconds`
 * (database time), no session of theirs in pg_stat_activity (their graphile-worker connections carry
 * the process id as application_name — a column every role may read, PostgreSQL ≥ 10), and the
 * server itself up for longer than `silentSeconds` (after a restart every session is gone and nobody
 * could beat while it was down, so live runners get that long to reconnect).
 */
export async function findSilentJobRunners(db: Db, selfId: string, silentSeconds: number): Promise<string[]> {
  const rows = await queueOwnerPool(db)<{ id: string }[]>`
    select p.id from job_runners.processes p
    where p.id <> ${selfId}
      and p.beat_at < now() - make_interval(secs => ${silentSeconds})
      and pg_postmaster_start_time() < now() - make_interval(secs => ${silentSeconds})
      and not exists (select 1 from pg_stat_activity a
                      where a.datname = current_database() and a.application_name = p.id)
    order by p.id`;
  return rows.map((r) => r.id);
}

export type ReleasedJobRunner = { id: string; poolIds: string[]; jobs: number };

/**
 * Releases the jobs of these job-runner processes and forgets them — each only if it is still silent
 * now (the conditions of findSilentJobRunners, checked again in the same transaction, which takes the
 * rows' locks: of several runners sweeping at once, one releases and the others find nothing).
 * Returns what was released, with the number of jobs that were locked.
 */
export async function releaseSilentJobRunners(
  db: Db,
  ids: readonly string[],
  silentSeconds: number,
): Promise<ReleasedJobRunner[]> {
  if (ids.length === 0) return [];
  return queueOwnerPool(db).begin(async (tx) => {
    const dead = await tx<{ id: string; pool_ids: string[] }[]>`
      delete from job_runners.processes p
      where p.id = any(${[...ids]}::text[])
        and p.beat_at < now() - make_interval(secs => ${silentSeconds})
        and pg_postmaster_start_time() < now() - make_interval(secs => ${silentSeconds})
        and not exists (select 1 from pg_stat_activity a
                        where a.datname = current_database() and a.application_name = p.id)
      returning p.id, p.pool_ids`;
    const released: ReleasedJobRunner[] = [];
    for (const d of dead) {
      const [row] = await tx<{ n: number }[]>`
        select count(*)::int as n from graphile_worker._private_jobs where locked_by = any(${d.pool_ids}::text[])`;
      if (d.pool_ids.length > 0) await tx`select graphile_worker.force_unlock_workers(${d.pool_ids}::text[])`;
      released.push({ id: d.id, poolIds: d.pool_ids, jobs: row?.n ?? 0 });
    }
    return released;
  });
}
