/**
 * The workers of the webhook event queue: webhook_events itself (migration 0022). In each process
 * that runs them:
 *
 * - they claim due pending events in batches (app.claim_webhook_events: oldest due first, `for update
 *   skip locked`, an attempt counted and a lease taken on each), and run up to `concurrency` attempts
 *   at once (process-event.ts);
 * - they wake on a NOTIFY the webhook route sends after it stored events (coalesced, outside the ack's
 *   commit), on a finished attempt, and every `pollMs` — so a lost notification only delays;
 * - they renew the leases of the events they hold every `renewMs`: an event whose worker died
 *   (SIGKILL, crash, lost machine) is due again once its lease (`leaseSeconds`) ends, and any worker
 *   takes it; a worker that is merely slow keeps it;
 * - stop() drains: no more claims (an event is claimed only for a free slot, so each claimed one is
 *   running), the running attempts get until the deadline; then the sessions of those still running are ended
 *   (their transactions roll back) and their events released, due at once, for another worker.
 */
import { randomBytes } from 'node:crypto';
import {
  claimWebhookEvents,
  listenForWebhookEvents,
  type QueuedWebhookEvent,
  releaseWebhookEvents,
  renewWebhookEventLeases,
  terminateWorkerBackends,
  workerPool,
} from '@crm/db/worker';
import type { AppDeps } from '../deps.ts';
import { processQueuedEvent } from './process-event.ts';

export type EventWorkerOptions = {
  /** Attempts running at once in this process. */
  concurrency: number;
  /** How long a claim holds an event without renewal. */
  leaseSeconds?: number;
  /** How often the leases held are renewed. */
  renewMs?: number;
  /** How often the queue is polled without a notification. */
  pollMs?: number;
};

export type EventWorkers = {
  /** This worker's id (webhook_events.locked_by of the events it holds). */
  readonly id: string;
  /** Whether it claims events now. */
  running: () => boolean;
  /** Drains (see the module's comment); with `timeoutMs`, attempts still running then are cut and released. */
  stop: (options?: { timeoutMs?: number }) => Promise<void>;
};

export const DEFAULT_LEASE_SECONDS = 30;
const DEFAULT_RENEW_MS = 5000;
const DEFAULT_POLL_MS = 500;
/** After a drain's deadline: how long the cut attempts get to record their end. */
const CUT_GRACE_MS = 2000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A wake-up signal: wait() resolves at the next wake() or after `ms`. */
function createSignal() {
  let waiting: (() => void) | null = null;
  let woken = false;
  return {
    wake(): void {
      woken = true;
      waiting?.();
    },
    async wait(ms: number): Promise<void> {
      if (woken) {
        woken = false;
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        waiting = resolve;
        timer = setTimeout(resolve, ms);
      });
      clearTimeout(timer);
      waiting = null;
      woken = false;
    },
  };
}

/** Waits for the running attempts, at most `ms`; whether they all ended. */
async function settleWithin(held: Map<string, { done: Promise<void> | null }>, ms: number): Promise<boolean> {
  const all = Promise.allSettled([...held.values()].map((h) => h.done)).then(() => true);
  if (!Number.isFinite(ms)) return all;
  let timer: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    all,
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return ended;
}

/** Renews, every `everyMs`, the leases of the events a worker holds. */
function renewLeases(
  deps: AppDeps,
  worker: string,
  held: () => string[],
  leaseSeconds: number,
  everyMs: number,
): NodeJS.Timeout {
  const timer = setInterval(() => {
    renewWebhookEventLeases(workerPool(deps.sql), worker, held(), leaseSeconds).catch((error: unknown) =>
      deps.log.warn('could not renew webhook event leases', {
        worker,
        error: (error as Error).message.split('\n')[0],
      }),
    );
  }, everyMs);
  timer.unref();
  return timer;
}

export async function startEventWorkers(deps: AppDeps, options: EventWorkerOptions): Promise<EventWorkers> {
  const id = `crm-events-${process.pid}-${randomBytes(6).toString('hex')}`;
  const leaseSeconds = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const sql = workerPool(deps.sql);
  const signal = createSignal();
  /** Claimed and not ended; with the session of its running transaction, if any. */
  const held = new Map<string, { pid: number | null; done: Promise<void> | null }>();
  let stopping = false;
  let draining = false;

  const listener = await listenForWebhookEvents(sql, () => signal.wake());

  const run = (queued: QueuedWebhookEvent): void => {
    const entry: { pid: number | null; done: Promise<void> | null } = { pid: null, done: null };
    held.set(queued.id, entry);
    entry.done = processQueuedEvent(deps, queued, id, {
      inTransaction: (pid) => {
        entry.pid = pid;
      },
      retryNow: () => draining,
    }).finally(() => {
      held.delete(queued.id);
      signal.wake();
    });
  };

  const loop = async (): Promise<void> => {
    let failing = false;
    // While the last claim took all it asked for, more are probably due: claim again only once half
    // the slots are free, so that one claim serves several attempts.
    let backlog = false;
    while (!stopping) {
      const free = options.concurrency - held.size;
      if (free >= (backlog ? Math.ceil(options.concurrency / 2) : 1)) {
        try {
          const claimed = await claimWebhookEvents(sql, id, free, leaseSeconds);
          backlog = claimed.length === free;
          if (failing) deps.log.info('webhook event workers claim again', { worker: id });
          failing = false;
          if (stopping) {
            await releaseWebhookEvents(
              sql,
              id,
              claimed.map((q) => q.id),
            ).catch(() => 0);
            break;
          }
          for (const queued of claimed) run(queued);
          if (claimed.length > 0) continue;
        } catch (error) {
          if (!failing)
            deps.log.warn('webhook event workers cannot claim', {
              worker: id,
              error: (error as Error).message.split('\n')[0],
            });
          failing = true;
        }
      }
      await signal.wait(pollMs);
    }
  };
  const looping = loop();

  const renewal = renewLeases(
    deps,
    id,
    () => [...held.keys()],
    leaseSeconds,
    options.renewMs ?? DEFAULT_RENEW_MS,
  );

  return {
    id,
    running: () => !stopping,
    stop: async ({ timeoutMs } = {}) => {
      if (stopping) return;
      stopping = true;
      signal.wake();
      await looping;
      await listener.unlisten().catch(() => {});
      if (!(await settleWithin(held, timeoutMs ?? Number.POSITIVE_INFINITY))) {
        draining = true;
        const pids = [...held.values()].flatMap((h) => (h.pid === null ? [] : [h.pid]));
        deps.log.warn('webhook events still running at the shutdown deadline; releasing them', {
          worker: id,
          events: held.size,
        });
        await terminateWorkerBackends(sql, pids).catch(() => {});
        await settleWithin(held, CUT_GRACE_MS);
      }
      clearInterval(renewal);
      // Whatever this worker still holds (a cut attempt that could not record its end) goes back.
      await releaseWebhookEvents(sql, id, [...held.keys()]).catch(() => 0);
    },
  };
}

/**
 * Runs every webhook event that is due now, in this process, until none is left (events whose
 * attempt failed and were rescheduled for later stay for later). For tests, scripts and demos.
 */
export async function runDueEvents(deps: AppDeps, concurrency = 4): Promise<void> {
  const id = `crm-events-once-${process.pid}-${randomBytes(6).toString('hex')}`;
  const sql = workerPool(deps.sql);
  for (;;) {
    const claimed = await claimWebhookEvents(sql, id, concurrency, DEFAULT_LEASE_SECONDS);
    if (claimed.length === 0) return;
    await Promise.all(claimed.map((queued) => processQueuedEvent(deps, queued, id)));
    await sleep(0);
  }
}
