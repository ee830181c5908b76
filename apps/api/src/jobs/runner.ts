/**
 * The job runner of a process: the webhook event workers (event-workers.ts: webhook_events is the
 * queue of webhook events) and graphile-worker over the application's PostgreSQL for the other jobs
 * (reconcile runs, added from SQL in the same transaction as their run, app.enqueue_reconcile_run).
 * Any number of worker processes may run against one database (see startJobRunner for what happens
 * when one dies).
 */
import { EventEmitter } from 'node:events';
import { type Db, isRolePools } from '@crm/db';
import { forceUnlockWorkers } from '@crm/db/worker';
import {
  Logger as GraphileLogger,
  type Runner,
  run,
  runMigrations,
  runOnce,
  type TaskList,
  type WorkerEvents,
} from 'graphile-worker';
import type { AppDeps } from '../deps.ts';
import type { Logger } from '../log.ts';
import { runReconcileJob } from '../reconcile/task.ts';
import { type EventWorkers, runDueEvents, startEventWorkers } from './event-workers.ts';
import { type RunnerLiveness, startRunnerLiveness } from './liveness.ts';

export type JobRunner = {
  /**
   * Stops taking jobs and events and waits for the running ones; with `timeoutMs`, those still
   * running then are released for another worker (events: their sessions ended, their leases
   * cleared; jobs: graphile-worker's forceful shutdown, failed for a retry, unlocked).
   */
  stop: (options?: { timeoutMs?: number }) => Promise<void>;
  /** Whether its workers run now (false while they restart after a failure, and once stopped). */
  running: () => boolean;
};

export type JobQueueOptions = {
  /** Connection string of the application database; defaults to the one `deps.sql` connects with. */
  databaseUrl?: string;
};

/**
 * The owner's connection string (graphile-worker needs its own pool, as the owner of its schema):
 * the role pools carry it; a single pool gives back the one it was created with.
 */
export function connectionStringOf(db: Db): string {
  if (isRolePools(db)) return db.ownerUrl;
  const o = db.options as unknown as {
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

/**
 * graphile-worker's log lines, as our JSON lines: warnings and errors only (its per-job info lines
 * duplicate ours), message only — its meta carries whole database clients and job rows.
 */
function graphileLogger(log: Logger): GraphileLogger {
  return new GraphileLogger(() => (level, message) => {
    const text = message.split('\n')[0] ?? '';
    if (level === 'error') log.error(text, { component: 'graphile-worker' });
    else if (level === 'warning') log.warn(text, { component: 'graphile-worker' });
  });
}

/** Every task graphile-worker runs (webhook events have their own queue, event-workers.ts). */
export function taskList(deps: AppDeps): TaskList {
  return {
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

/**
 * graphile-worker 0.17 records a job's success or failure fire-and-forget by default: while the
 * database is away that is an unhandled rejection (which ends a Node process) and a job left locked
 * for hours. Batched (even with no delay), a failed recording shuts the pool down instead, which
 * startJobRunner notices and repairs. (The batcher's retry loop gives up at the first failure,
 * graphile/worker#636: there is no retry inside graphile-worker.)
 */
const RELIABLE_COMPLETION = { worker: { completeJobBatchDelay: 0, failJobBatchDelay: 0 } };

/**
 * How long a pool may take to terminate once its graceful shutdown has completed (every worker
 * released, nothing left to run). graphile-worker 0.17.3's job-outcome batcher hangs that termination
 * for good once two recordings have failed (its count of pending batches goes below zero, so its
 * release never resolves): the runner would then never end, so never be restarted, and the jobs of
 * the pool would stay locked by it. Seen in CI after a database outage: all four workers' jobs locked
 * for good, no error, no session.
 */
export const POOL_TERMINATE_TIMEOUT_MS = 5000;

/**
 * Bounds a pool's termination (see POOL_TERMINATE_TIMEOUT_MS): its graceful shutdown settles as
 * graphile-worker's does, or fails once the workers are all released and termination has not
 * finished in time — the pool then counts as ended, its runner stops, and startJobRunner releases the
 * pool's jobs and starts another.
 */
function boundedPoolTermination(events: WorkerEvents, timeoutMs: number): GraphileConfig.Plugin {
  return {
    name: 'CrmBoundedPoolTerminationPlugin',
    version: '1.0.0',
    worker: {
      middleware: {
        poolGracefulShutdown: (next, event) =>
          new Promise((resolve, reject) => {
            let timer: NodeJS.Timeout | undefined;
            const onDrained = ({ workerPool }: { workerPool: unknown }) => {
              if (workerPool !== event.workerPool || timer) return;
              timer = setTimeout(
                () =>
                  reject(
                    new Error(
                      `worker pool ${event.workerPool.id} did not terminate within ${timeoutMs} ms of its shutdown`,
                    ),
                  ),
                timeoutMs,
              );
            };
            events.on('pool:gracefulShutdown:complete', onDrained);
            events.on('pool:gracefulShutdown:error', onDrained);
            Promise.resolve(next())
              .then(resolve, reject)
              .finally(() => {
                clearTimeout(timer);
                events.off('pool:gracefulShutdown:complete', onDrained);
                events.off('pool:gracefulShutdown:error', onDrained);
              });
          }),
      },
    },
  };
}

/**
 * The preset of a runner's pools: reliable completion with bounded termination, and a pool's workers
 * take no job before the pool is recorded as this process's (liveness.ts), so that if the process
 * dies every job it locked can be attributed to it and released by the other runners.
 */
function runnerPreset(
  liveness: RunnerLiveness,
  cancelled: () => boolean,
  events: WorkerEvents,
): GraphileConfig.Preset {
  return {
    ...RELIABLE_COMPLETION,
    plugins: [
      boundedPoolTermination(events, POOL_TERMINATE_TIMEOUT_MS),
      {
        name: 'CrmRunnerLivenessPlugin',
        version: '1.0.0',
        worker: {
          hooks: {
            startWorker: async (_ctx, { worker }) => {
              await liveness.recordPool(worker.workerPool.id, cancelled);
            },
          },
        },
      },
    ],
  };
}

const RESTART_DELAYS_MS = [250, 1000, 2000, 5000, 10_000];

/**
 * Runs `concurrency` workers in this process until stop(), and keeps them running:
 * - graphile-worker shuts its pool down when the database fails under it at the wrong moment (it
 *   cannot record a job's outcome); the pool is then started again, with backoff while the database
 *   is away, and the jobs the old pool held are released at once (force_unlock_workers);
 * - every 3 s this process beats and releases the jobs of runner processes that died (SIGKILL,
 *   crash), 10–19 s after their death, never those of a live one (liveness.ts);
 * - webhook events are claimed with a lease their worker renews: a dead process's events are due
 *   again once their lease ends (event-workers.ts).
 */
export async function startJobRunner(
  deps: AppDeps,
  options: {
    concurrency: number;
    /** Tests only: run these graphile-worker tasks instead of the app's. */
    tasks?: TaskList;
    /** Tests only: no webhook event workers. */
    noEventWorkers?: boolean;
  } & JobQueueOptions,
): Promise<JobRunner> {
  const liveness = await startRunnerLiveness(deps.sql, deps.log);
  const connectionString = liveness.tagConnectionString(options.databaseUrl ?? connectionStringOf(deps.sql));
  let stopped = false;
  let current: Runner | null = null;
  let restartTimer: NodeJS.Timeout | null = null;

  const launch = async (): Promise<Runner> => {
    const events = new EventEmitter() as WorkerEvents;
    const poolIds: string[] = [];
    events.on('pool:create', ({ workerPool }) => {
      poolIds.push(workerPool.id);
    });
    const runner = await run({
      connectionString,
      concurrency: options.concurrency,
      maxPoolSize: Math.max(4, options.concurrency + 2),
      noHandleSignals: true,
      // New jobs wake workers through LISTEN/NOTIFY; polling only catches retries that come due.
      pollInterval: 1000,
      logger: graphileLogger(deps.log),
      preset: runnerPreset(liveness, () => stopped, events),
      events,
      taskList: options.tasks ?? taskList(deps),
    });
    runner.promise.then(
      () => onEnded(poolIds, null),
      (error: unknown) => onEnded(poolIds, error),
    );
    return runner;
  };

  const onEnded = (poolIds: string[], error: unknown): void => {
    if (stopped) return;
    deps.log.error('job workers stopped; restarting them', {
      error: error instanceof Error ? error.message.split('\n')[0] : null,
    });
    current = null;
    scheduleRestart(poolIds, 0);
  };

  const scheduleRestart = (poolIds: string[], attempt: number): void => {
    const delay = RESTART_DELAYS_MS[Math.min(attempt, RESTART_DELAYS_MS.length - 1)] ?? 10_000;
    restartTimer = setTimeout(async () => {
      restartTimer = null;
      if (stopped) return;
      try {
        // The old pool is gone: nothing of it runs any more, so its locks can go now.
        if (poolIds.length > 0) await forceUnlockWorkers(deps.sql, poolIds);
        liveness.forgetPools(poolIds);
        current = await launch();
        deps.log.info('job workers restarted', { concurrency: options.concurrency });
      } catch (error) {
        deps.log.warn('job workers could not restart yet', { error: (error as Error).message });
        scheduleRestart(poolIds, attempt + 1);
      }
    }, delay);
  };

  let events: EventWorkers | null = null;
  try {
    current = await launch();
    if (!options.noEventWorkers) events = await startEventWorkers(deps, { concurrency: options.concurrency });
  } catch (error) {
    stopped = true;
    await current?.stop().catch(() => {});
    await liveness.stop();
    throw error;
  }

  return {
    running: () => current !== null && !stopped && (events?.running() ?? true),
    stop: async (options = {}) => {
      if (stopped) return;
      stopped = true;
      if (restartTimer) clearTimeout(restartTimer);
      const eventsStopped = events?.stop(options);
      const draining = current?.stop();
      if (
        draining &&
        options.timeoutMs !== undefined &&
        !(await settlesWithin(draining, options.timeoutMs))
      ) {
        deps.log.warn('jobs still running at the shutdown deadline; releasing them', {
          ms: options.timeoutMs,
        });
        await current?.kill('shutdown deadline').catch(() => {});
      }
      await draining?.catch((error: unknown) =>
        deps.log.warn('job workers did not stop cleanly', { error: (error as Error).message }),
      );
      await eventsStopped;
      // Only now: while the workers drain, this process must still show that it is alive.
      await liveness.stop();
    },
  };
}

/**
 * Runs every webhook event and job that is due now, in this process, until none is left (those that
 * failed and were rescheduled for later are left for later). For tests, scripts and demos.
 */
export async function runDueJobs(deps: AppDeps, options: JobQueueOptions = {}): Promise<void> {
  await runDueEvents(deps);
  const events = new EventEmitter() as WorkerEvents;
  await runOnce({
    connectionString: options.databaseUrl ?? connectionStringOf(deps.sql),
    concurrency: 4,
    noHandleSignals: true,
    logger: graphileLogger(deps.log),
    preset: { ...RELIABLE_COMPLETION, plugins: [boundedPoolTermination(events, POOL_TERMINATE_TIMEOUT_MS)] },
    events,
    taskList: taskList(deps),
  });
}

/** Whether `promise` settles (either way) within `ms`. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
