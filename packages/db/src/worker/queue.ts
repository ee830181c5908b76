import type { Sql } from '../client.ts';

/**
 * How many jobs are running or due now (not counting retries scheduled for later, nor jobs that
 * exhausted their attempts). Runs as the connecting role, which owns graphile-worker's schema.
 */
export async function countBusyJobs(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from graphile_worker._private_jobs
    where locked_at is not null or (run_at <= now() and attempts < max_attempts)`;
  return row?.n ?? 0;
}

/**
 * Releases the jobs of workers that hold a `process_webhook_event` job for longer than `olderThanSeconds`
 * — a webhook job takes milliseconds, so such a worker has died (killed, machine lost) or hung, and
 * its jobs would otherwise wait for graphile-worker's own 4-hour lock expiry. Uses graphile-worker's
 * force_unlock_workers; a job released while its worker is in fact still running is harmless (the
 * order's advisory lock and unique index keep it to one order). Returns the workers unlocked.
 */
export async function unlockStalledWebhookWorkers(sql: Sql, olderThanSeconds: number): Promise<string[]> {
  const rows = await sql<{ worker: string }[]>`
    select distinct locked_by as worker from graphile_worker.jobs
    where task_identifier = 'process_webhook_event'
      and locked_by is not null
      and locked_at < now() - make_interval(secs => ${olderThanSeconds})`;
  const workers = rows.map((r) => r.worker);
  if (workers.length > 0) await sql`select graphile_worker.force_unlock_workers(${workers}::text[])`;
  return workers;
}

/** Releases every job locked by these worker pools, which must no longer be running. */
export async function forceUnlockWorkers(sql: Sql, workerIds: string[]): Promise<void> {
  if (workerIds.length > 0) await sql`select graphile_worker.force_unlock_workers(${workerIds}::text[])`;
}
