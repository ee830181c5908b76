-- Liveness of the job-runner processes, so that the jobs of a dead one (SIGKILL, crash, OOM) are
-- released within seconds instead of after the 15-minute stalled-job sweep.
--
-- graphile-worker locks a job with the id of the worker pool that took it (jobs.locked_by, a random
-- "pool-…" id) and knows nothing of processes. Every runner process (apps/api/src/jobs/liveness.ts)
-- keeps one row here: the pool ids it runs (recorded before any of its workers asks for a job), a
-- heartbeat it refreshes every few seconds, and its id, which is also the application_name of its
-- graphile-worker connections. Other runners release the pools of a process that has neither beaten
-- recently nor any session in pg_stat_activity (packages/db/src/worker/queue.ts).
--
-- Queue bookkeeping, like graphile-worker's own schema: it belongs to the migrating role (the owner
-- of the queue) and no application role may use it. It holds no workspace data.

create schema if not exists job_runners;
revoke all on schema job_runners from public;

create table if not exists job_runners.processes (
  -- Unique per process start; also the application_name of its graphile-worker connections.
  id text primary key,
  host text not null,
  pid integer not null,
  -- graphile-worker pool ids (the values of jobs.locked_by) of this process.
  pool_ids text[] not null default '{}',
  started_at timestamptz not null default now(),
  beat_at timestamptz not null default now()
);

revoke all on job_runners.processes from public;
