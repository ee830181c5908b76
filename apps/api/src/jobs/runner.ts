/**
 * The durable job queue: graphile-worker over the application's PostgreSQL. Jobs are added from SQL
 * in the same transaction as the rows they process (app.enqueue_webhook_event), workers wake on
 * LISTEN/NOTIFY, and any number of worker processes may run against one database (each job is locked
 * by one worker at a time; a crashed worker's jobs are unlocked after graphile-worker's lock timeout).
 */
import type { Sql } from '@crm/db';
import {
  Logger as GraphileLogger,
  type Runner,
  run,
  runMigrations,
  runOnce,
  type TaskList,
} from 'graphile-worker';
import type { AppDeps } from '../deps.ts';
import type { Logger } from '../log.ts';
import { runReconcileJob } from '../reconcile/task.ts';
import { PROCESS_WEBHOOK_EVENT, processWebhookEventJob } from './process-event.ts';

export type JobRunner = { stop: () => Promise<void> };

export type JobQueueOptions = {
  /** Connection string of the application database; defaults to the one `deps.sql` connects with. */
  databaseUrl?: string;
};

/** The connection string `sql` was created with (graphile-worker needs its own pool). */
export function connectionStringOf(sql: Sql): string {
  const o = sql.options as unknown as {
    host: string[];
    port: number[];
    user: string;
    pass: string | null;
    database: string;
  };
  const url = new URL('postgres://localhost');
  url.hostname = o.host[0] ?? 'localhost';
  url.port = String(o.port[0] ?? 5432);
  url.username = encodeURIComponent(o.user);
  if (typeof o.pass === 'string' && o.pass !== '') url.password = encodeURIComponent(o.pass);
  url.pathname = `/${encodeURIComponent(o.database)}`;
  return url.toString();
}

function graphileLogger(log: Logger): GraphileLogger {
  return new GraphileLogger(() => (level, message, meta) => {
    const fields = { component: 'graphile-worker', ...(meta ? { meta: JSON.stringify(meta) } : {}) };
    if (level === 'error') log.error(message, fields);
    else if (level === 'warning') log.warn(message, fields);
    else if (level === 'info') log.info(message, fields);
  });
}

/** Every task the workers run. */
export function taskList(deps: AppDeps): TaskList {
  return {
    [PROCESS_WEBHOOK_EVENT]: async (payload, helpers) => {
      await processWebhookEventJob(deps, payload, {
        attempts: helpers.job.attempts,
        maxAttempts: helpers.job.max_attempts,
      });
    },
    reconcile_orders: async (payload) => {
      await runReconcileJob(deps, payload);
    },
  };
}

/**
 * Installs or upgrades graphile-worker's schema. Must run at startup before the webhook route can
 * enqueue, even in a process that runs no workers. Safe to run from several processes at once.
 */
export async function prepareJobQueue(deps: AppDeps, options: JobQueueOptions = {}): Promise<void> {
  await runMigrations({
    connectionString: options.databaseUrl ?? connectionStringOf(deps.sql),
    logger: graphileLogger(deps.log),
  });
}

/** Runs `concurrency` workers in this process until stop(). */
export async function startJobRunner(
  deps: AppDeps,
  options: { concurrency: number } & JobQueueOptions,
): Promise<JobRunner> {
  const runner: Runner = await run({
    connectionString: options.databaseUrl ?? connectionStringOf(deps.sql),
    concurrency: options.concurrency,
    maxPoolSize: Math.max(4, options.concurrency + 2),
    noHandleSignals: true,
    // New jobs wake workers through LISTEN/NOTIFY; polling only catches retries that come due.
    pollInterval: 1000,
    logger: graphileLogger(deps.log),
    taskList: taskList(deps),
  });
  runner.promise.catch((error: unknown) => {
    deps.log.error('job runner stopped with an error', { error: (error as Error).message });
  });
  let stopped = false;
  return {
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await runner.stop();
    },
  };
}

/**
 * Runs every job that is due now, in this process, until none is left (jobs that failed and were
 * rescheduled for later are left for later). For tests, scripts and demos.
 */
export async function runDueJobs(deps: AppDeps, options: JobQueueOptions = {}): Promise<void> {
  await runOnce({
    connectionString: options.databaseUrl ?? connectionStringOf(deps.sql),
    concurrency: 4,
    noHandleSignals: true,
    logger: graphileLogger(deps.log),
    taskList: taskList(deps),
  });
}
