/**
 * Liveness of the job-runner processes: every process that runs graphile-worker pools (the server's
 * in-process workers, each `npm run worker`) records itself in job_runners.processes and, a few
 * seconds apart, looks for runners that died (SIGKILL, crash, OOM) and releases their jobs, so those
 * run again within seconds instead of after the 15-minute stalled-job sweep.
 *
 * A runner is taken for dead only when, as seen from the database, BOTH signals of life are gone:
 * - its heartbeat: a row refreshed every `intervalMs` from its own owner pool, stale for
 *   `silentSeconds` of database time (and the server up for longer than that: after a PostgreSQL
 *   restart nobody could beat while it was down);
 * - its sessions: its graphile-worker connections carry its id as application_name; a killed
 *   process's sockets close with it, so its sessions leave pg_stat_activity at once, while a live
 *   one keeps at least its LISTEN connection open, even with its event loop busy.
 * and when this sweeper has seen it so on consecutive sweeps for `confirmMs`, without a failed or
 * late sweep of its own in between (a sweeper that was itself cut off, or stalled, starts over), so
 * a live runner reconnecting after an outage always has time to beat first. The release re-checks
 * the conditions in the statement that does it. Several sweepers at once are harmless: each release
 * deletes the dead runner's row, and only one of them gets it.
 *
 * What is never released here: jobs of a live process (however long they run), jobs locked by a
 * pool that no runner recorded (graphile-worker's runOnce, an older version of this code), and the
 * jobs of a runner whose sessions stay open on a lost machine or that is hung — those are left to
 * the stalled-job sweep in runner.ts.
 */

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '@crm/db';
import {
  beatJobRunner,
  findSilentJobRunners,
  type JobRunnerProcess,
  releaseSilentJobRunners,
  removeJobRunner,
} from '@crm/db/worker';
import type { Logger } from '../log.ts';

export type LivenessTimings = {
  /** How often a runner beats and looks for dead runners. */
  intervalMs: number;
  /** A runner without a beat and without a session for this long (database time) is suspect… */
  silentSeconds: number;
  /** …and released once it stayed suspect on consecutive sweeps for this long. */
  confirmMs: number;
};

/**
 * A dead runner's jobs are released 10–19 s after it died: its last beat was up to 3 s before,
 * 10 s of silence, 6 s of confirmation, up to 3 s to the next sweep.
 */
export const DEFAULT_LIVENESS: LivenessTimings = { intervalMs: 3000, silentSeconds: 10, confirmMs: 6000 };

const RECORD_RETRY_MS = 1000;

export type RunnerLiveness = {
  /** Unique per process start; the application_name of its graphile-worker connections. */
  readonly id: string;
  /** The connection string for graphile-worker's pool, tagged with this runner's id. */
  tagConnectionString: (url: string) => string;
  /**
   * Records a new graphile-worker pool of this process. Resolves once stored — retrying while the
   * database is away — or once `cancelled()`; workers must not take jobs before it resolves, or a
   * job could be locked by a pool nobody can attribute to a process.
   */
  recordPool: (poolId: string, cancelled: () => boolean) => Promise<void>;
  /** Forgets pools that hold no job any more (an old pool whose jobs this process released). */
  forgetPools: (poolIds: readonly string[]) => void;
  /** Stops beating and sweeping, and removes this runner's record (its workers must have stopped). */
  stop: () => Promise<void>;
};

/**
 * This runner's heartbeat. Beats run one after another: a beat that started before a pool was added
 * must not land after the one that records it.
 */
function createBeat(db: Db, log: Logger, self: JobRunnerProcess, pools: ReadonlySet<string>) {
  let beats: Promise<unknown> = Promise.resolve();
  let beaten = false;
  const beat = (): Promise<void> => {
    const next = beats.then(async () => {
      const existed = await beatJobRunner(db, self, [...pools]);
      if (beaten && !existed)
        log.warn('this job runner had been taken for dead; its jobs may have been released', {
          runner: self.id,
        });
      beaten = true;
    });
    beats = next.catch(() => {});
    return next;
  };
  return { beat, settled: () => beats };
}

/**
 * One sweep: beat, then release the runners seen silent on this sweeper's consecutive sweeps for
 * `confirmMs`. `reset()` forgets the suspects (after a failed sweep).
 */
function createSweep(
  db: Db,
  log: Logger,
  selfId: string,
  timings: LivenessTimings,
  beat: () => Promise<void>,
) {
  // Runners silent on this sweeper's consecutive sweeps, with when they were first seen so.
  const suspects = new Map<string, number>();
  let lastSweep: number | null = null;
  const sweep = async (): Promise<void> => {
    await beat();
    const silent = await findSilentJobRunners(db, selfId, timings.silentSeconds);
    const now = performance.now();
    // A gap in this sweeper's own observations (it was cut off, failed, or stalled): start over.
    if (lastSweep === null || now - lastSweep > 2.5 * timings.intervalMs) suspects.clear();
    lastSweep = now;
    for (const id of [...suspects.keys()]) if (!silent.includes(id)) suspects.delete(id);
    for (const id of silent) if (!suspects.has(id)) suspects.set(id, now);
    const confirmed = silent.filter((id) => now - (suspects.get(id) ?? now) >= timings.confirmMs);
    if (confirmed.length === 0) return;
    const released = await releaseSilentJobRunners(db, confirmed, timings.silentSeconds);
    for (const id of confirmed) suspects.delete(id);
    for (const r of released)
      log.warn('released the jobs of a dead job runner', {
        runner: r.id,
        pools: r.poolIds.join(','),
        jobs: r.jobs,
      });
  };
  const reset = () => {
    suspects.clear();
    lastSweep = null;
  };
  return { sweep, reset };
}

/** Runs `sweep` every `intervalMs` until `stopped()`, logging when it starts or stops failing. */
function scheduleSweeps(
  log: Logger,
  selfId: string,
  intervalMs: number,
  sweeper: { sweep: () => Promise<void>; reset: () => void },
  stopped: () => boolean,
) {
  let timer: NodeJS.Timeout | null = null;
  let ticking: Promise<void> | null = null;
  let failing = false;
  const schedule = () => {
    if (stopped()) return;
    timer = setTimeout(() => {
      timer = null;
      ticking = sweeper.sweep().then(
        () => {
          if (failing) log.info('job runner liveness sweep works again', { runner: selfId });
          failing = false;
        },
        (error: unknown) => {
          sweeper.reset();
          if (!failing)
            log.warn('job runner liveness sweep failed', {
              runner: selfId,
              error: (error as Error).message.split('\n')[0],
            });
          failing = true;
        },
      );
      ticking.finally(() => {
        ticking = null;
        schedule();
      });
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return {
    /** Cancels the next sweep and waits for a running one. */
    stop: async () => {
      if (timer) clearTimeout(timer);
      await ticking?.catch(() => {});
    },
  };
}

/** Records this process as a job runner (one beat, so it fails if the database is away) and starts beating and sweeping. */
export async function startRunnerLiveness(
  db: Db,
  log: Logger,
  timings: LivenessTimings = DEFAULT_LIVENESS,
): Promise<RunnerLiveness> {
  const self: JobRunnerProcess = {
    id: `crm-jobs-${process.pid}-${randomBytes(6).toString('hex')}`,
    host: hostname(),
    pid: process.pid,
  };
  const pools = new Set<string>();
  const recorded = new Map<string, Promise<void>>();
  let stopped = false;
  const { beat, settled } = createBeat(db, log, self, pools);

  await beat();
  const sweeps = scheduleSweeps(
    log,
    self.id,
    timings.intervalMs,
    createSweep(db, log, self.id, timings, beat),
    () => stopped,
  );

  /** Beats until the beat that records the pool is stored, or until cancelled. */
  const record = async (cancelled: () => boolean): Promise<void> => {
    for (;;) {
      if (stopped || cancelled()) return;
      try {
        await beat();
        return;
      } catch (error) {
        log.warn('could not record a job worker pool yet', {
          runner: self.id,
          error: (error as Error).message.split('\n')[0],
        });
        await sleep(RECORD_RETRY_MS);
      }
    }
  };

  return {
    id: self.id,
    tagConnectionString: (url) => {
      const u = new URL(url);
      u.searchParams.set('application_name', self.id);
      return u.toString();
    },
    recordPool: (poolId, cancelled) => {
      let done = recorded.get(poolId);
      if (!done) {
        pools.add(poolId);
        done = record(cancelled);
        recorded.set(poolId, done);
      }
      return done;
    },
    forgetPools: (poolIds) => {
      for (const id of poolIds) {
        pools.delete(id);
        recorded.delete(id);
      }
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await sweeps.stop();
      await settled();
      await removeJobRunner(db, self.id).catch((error: unknown) =>
        log.warn('could not remove this job runner record', {
          runner: self.id,
          error: (error as Error).message.split('\n')[0],
        }),
      );
    },
  };
}
