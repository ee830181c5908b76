import type { Db } from '../rls.ts';
import { queueOwnerPool } from './tx.ts';

/**
 * How many jobs are running or due now (not counting retries scheduled for later, nor jobs that
 * exhausted their attempts). Runs as the connecting role, which owns graphile-worker's schema.
 */
export async function countBusyJobs(db: Db): Promise<number> {
  const [row] = await queueOwnerPool(db)<{ n: number }[]>`
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
export async function unlockStalledWebhookWorkers(db: Db, olderThanSeconds: number): Promise<string[]> {
  const rows = await queueOwnerPool(db)<{ worker: string }[]>`
    select distinct locked_by as worker from graphile_worker.jobs
    where task_identifier = 'process_webhook_event'
      and locked_by is not null
      and locked_at < now() - make_interval(secs => ${olderThanSeconds})`;
  const workers = rows.map((r) => r.worker);
  await forceUnlockWorkers(db, workers);
  return workers;
}

/** Releases every job locked by these worker pools, which must no longer be running. */
export async function forceUnlockWorkers(db: Db, workerIds: string[]): Promise<void> {
  if (workerIds.length > 0)
    await queueOwnerPool(db)`select graphile_worker.force_unlock_workers(${workerIds}::text[])`;
}
