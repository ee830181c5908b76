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
