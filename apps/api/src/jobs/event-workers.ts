/**
 * The workers of the webhook event queue: webhook_events itself (migration 0022). In each process
 * that runs them:
 *
 * - they claim due pending events in batches (app.claim_webhook_events: oldest due first, `for update
 *   skip locked`, an attempt counted and a lease taken on each), and run up to `concurrency` attempts
 *   at once (process-event.ts);
 * - they wake on a NOTIFY the webhook route sends after it stored events (coalesced, outside the ack's
 *   commit), on a finished attempt, and every `pollMs` — so a lost notification only delays; a
 *   finished attempt claims again only while the last claim found as many as it asked for (more may
 *   be due), not after a claim that emptied the queue;
 * - they renew the leases of the events they hold every `renewMs`: an event whose worker died
 *   (SIGKILL, crash, lost machine) is due again once its lease (`leaseSeconds`) ends, and any worker
 *   takes it; a worker that is merely slow keeps it;
 * - an attempt still running after `attemptTimeoutMs` is cut, at the next renewal: its slot is freed,
 *   its lease is no longer renewed, it is logged and counted (crm_webhook_event_attempts_cut_total),
 *   and its session is ended if it is in a transaction (which rolls back; the attempt then records
 *   its failure, "took longer than … s", with the usual backoff). One stuck outside a transaction
 *   has its event come back when the lease lapses. Without this, an attempt that hangs — waiting on
 *   a lock forever, or on a driver that lost its connection without failing the statement
 *   (postgres.js, see commitWith in @crm/db) — keeps its event and its slot for as long as the
 *   process lives. A late end of a cut attempt changes nothing: its transaction is gone, or the
 *   event is no longer its worker's (startWebhookEventAttempt and the failure record check the
 *   lease), and an order is applied once whatever happens (unique Shopify order id per workspace);
 * - stop() drains: no more claims (an event is claimed only for a free slot, so each claimed one is
 *   running), the running attempts get until the deadline; then the sessions of those still running are ended
 *   (their transactions roll back) and their events released, due at once, for another worker.
 */

import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
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
import { metrics } from '../metrics.ts';
import { processQueuedEvent } from './process-event.ts';

export type EventWorkerOptions = {
  /** Attempts running at once in this process. */
  concurrency: number;
  /** How long a claim holds an event without renewal; config.eventLeaseSeconds. */
  leaseSeconds?: number;
  /** How often the leases held are renewed. */
  renewMs?: number;
  /** How often the queue is polled without a notification. */
  pollMs?: number;
  /** How long an attempt may run before it is cut (see the module's comment); config.eventAttemptTimeoutMs. */
  attemptTimeoutMs?: number;
};

export type EventWorkers = {
  /** This worker's id (webhook_events.locked_by of the events it holds). */
  readonly id: string;
  /** Whether it claims events now. */
  running: () => boolean;
  /** Drains (see the module's comment); with `timeoutMs`, attempts still running then are cut and released. */
  stop: (options?: { timeoutMs?: number }) => Promise<void>;
};

const DEFAULT_RENEW_MS = 5000;
const DEFAULT_POLL_MS = 500;
/** After a drain's deadline: how long the cut attempts get to record their end. */
const CUT_GRACE_MS = 2000;

/** A wake-up signal: wait() resolves at the next wake() (true) or after `ms` (false). */
function createSignal() {
  let waiting: (() => void) | null = null;
  let woken = false;
  return {
    wake(): void {
      woken = true;
      waiting?.();
    },
    async wait(ms: number): Promise<boolean> {
      if (woken) {
        woken = false;
        return true;
      }
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        waiting = resolve;
        timer = setTimeout(resolve, ms);
      });
      clearTimeout(timer);
      waiting = null;
      const byWake = woken;
      woken = false;
      return byWake;
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

/** An attempt a worker runs: the session of its transaction, if any, when it began, whether it was cut. */
type HeldAttempt = {
  attempt: number;
  pid: number | null;
  done: Promise<void> | null;
  startedAt: number;
  cut: boolean;
};

/**
 * Cuts the attempts of `held` that began more than `timeoutMs` ago (the module's comment): takes them
 * out of `held` (no renewal, a free slot), logs and counts each, ends the sessions of those in a
 * transaction.
 */
async function cutOverdueAttempts(
  deps: AppDeps,
  worker: string,
  held: Map<string, HeldAttempt>,
  timeoutMs: number,
): Promise<void> {
  const now = performance.now();
  const overdue = [...held].filter(([, h]) => now - h.startedAt > timeoutMs);
  if (overdue.length === 0) return;
  for (const [eventId, h] of overdue) {
    held.delete(eventId);
    h.cut = true;
    metrics.eventAttemptsCut.inc();
    deps.log.error('webhook event attempt ran past its deadline; cut', {
      worker,
      eventId,
      attempt: h.attempt,
      seconds: Math.round((now - h.startedAt) / 1000),
      backendPid: h.pid,
    });
  }
  await terminateWorkerBackends(
    workerPool(deps.sql),
    overdue.flatMap(([, h]) => (h.pid === null ? [] : [h.pid])),
  );
}

/**
 * Every `everyMs`: cuts the attempts that ran past their deadline, then renews the leases of the
 * events the worker still holds.
 */
function watchAttempts(
  deps: AppDeps,
  worker: string,
  held: Map<string, HeldAttempt>,
  {
    leaseSeconds,
    everyMs,
    attemptTimeoutMs,
  }: { leaseSeconds: number; everyMs: number; attemptTimeoutMs: number },
): NodeJS.Timeout {
  const warn = (what: string) => (error: unknown) =>
    deps.log.warn(what, { worker, error: (error as Error).message.split('\n')[0] });
  const timer = setInterval(() => {
    cutOverdueAttempts(deps, worker, held, attemptTimeoutMs).catch(
      warn('could not end the sessions of webhook event attempts that ran past their deadline'),
    );
    renewWebhookEventLeases(workerPool(deps.sql), worker, [...held.keys()], leaseSeconds).catch(
      warn('could not renew webhook event leases'),
    );
  }, everyMs);
  timer.unref();
  return timer;
}

/**
 * When the workers claim, and how many events they ask for:
 * - while the last claim took all it asked for (a backlog), more are probably due: claim again only
 *   once half the slots are free, so that one claim serves several attempts;
 * - once a claim took fewer than it asked for, nothing else was due: an ended attempt frees a slot but
 *   makes nothing due, so the next claim waits for a notification, or for the poll (`pollMs` after the
 *   last claim: retries, lapsed leases and lost notifications come due without one). Claiming at
 *   every ended attempt made three claims per event, two of them empty, when deliveries came one at a
 *   time (BENCHMARKS.md, session 20).
 */
export function createClaimGate(concurrency: number, pollMs: number) {
  let backlog = false;
  let drained = false;
  /** A notification or a whole poll interval since the last claim began (one during it counts too). */
  let nudged = true;
  let claimedAt = Number.NEGATIVE_INFINITY;
  return {
    /** A notification came: the webhook route stored events. */
    notified(): void {
      nudged = true;
    },
    /** A wait for a wake-up ran its whole `pollMs`. */
    pollPassed(): void {
      nudged = true;
    },
    /** How many to claim now, with `running` attempts held (0: no claim now). A claim follows any other answer. */
    toClaim(running: number): number {
      const free = concurrency - running;
      const mayFind = !drained || nudged || performance.now() - claimedAt >= pollMs;
      if (!mayFind || free < (backlog ? Math.ceil(concurrency / 2) : 1)) return 0;
      nudged = false;
      claimedAt = performance.now();
      return free;
    },
    /** The claim that toClaim allowed took `found` of the `asked`. */
    claimed(found: number, asked: number): void {
      backlog = found === asked;
      drained = found < asked;
    },
    /** The claim that toClaim allowed failed. */
    failed(): void {
      drained = false;
    },
  };
}

/** Claims and starts attempts, as the gate allows, until `stopping`; what a claim takes after that goes back. */
async function claimUntilStopped(ctx: {
  deps: AppDeps;
  worker: string;
  leaseSeconds: number;
  pollMs: number;
  gate: ReturnType<typeof createClaimGate>;
  signal: ReturnType<typeof createSignal>;
  running: () => number;
  start: (queued: QueuedWebhookEvent) => void;
  stopping: () => boolean;
}): Promise<void> {
  const { deps, worker, gate } = ctx;
  const sql = workerPool(deps.sql);
  let failing = false;
  while (!ctx.stopping()) {
    const free = gate.toClaim(ctx.running());
    if (free > 0) {
      try {
        const claimed = await claimWebhookEvents(sql, worker, free, ctx.leaseSeconds);
        metrics.eventsClaimed(claimed.length);
        gate.claimed(claimed.length, free);
        if (failing) deps.log.info('webhook event workers claim again', { worker });
        failing = false;
        if (ctx.stopping()) {
          await releaseWebhookEvents(
            sql,
            worker,
            claimed.map((q) => q.id),
          ).catch(() => 0);
          break;
        }
        for (const queued of claimed) ctx.start(queued);
        if (claimed.length > 0) continue;
      } catch (error) {
        if (!failing)
          deps.log.warn('webhook event workers cannot claim', {
            worker,
            error: (error as Error).message.split('\n')[0],
          });
        failing = true;
        gate.failed();
      }
    }
    if (!(await ctx.signal.wait(ctx.pollMs))) gate.pollPassed();
  }
}

export async function startEventWorkers(deps: AppDeps, options: EventWorkerOptions): Promise<EventWorkers> {
  const id = `crm-events-${process.pid}-${randomBytes(6).toString('hex')}`;
  const leaseSeconds = options.leaseSeconds ?? deps.config.eventLeaseSeconds;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? deps.config.eventAttemptTimeoutMs;
  const sql = workerPool(deps.sql);
  const signal = createSignal();
  /** Claimed and not ended; with the session of its running transaction, if any. */
  const held = new Map<string, HeldAttempt>();
  let stopping = false;
  let draining = false;

  const gate = createClaimGate(options.concurrency, pollMs);
  const listener = await listenForWebhookEvents(sql, () => {
    gate.notified();
    signal.wake();
  });

  const run = (queued: QueuedWebhookEvent): void => {
    const entry: HeldAttempt = {
      attempt: queued.attempts,
      pid: null,
      done: null,
      startedAt: performance.now(),
      cut: false,
    };
    held.set(queued.id, entry);
    entry.done = processQueuedEvent(deps, queued, id, {
      inTransaction: (pid) => {
        entry.pid = pid;
      },
      retryNow: () => draining,
      cutAfterSeconds: () => (entry.cut ? Math.round(attemptTimeoutMs / 1000) : null),
    }).finally(() => {
      // A cut attempt is no longer held; the same event may be held again by a newer attempt.
      if (held.get(queued.id) === entry) held.delete(queued.id);
      signal.wake();
    });
  };

  const looping = claimUntilStopped({
    deps,
    worker: id,
    leaseSeconds,
    pollMs,
    gate,
    signal,
    running: () => held.size,
    start: run,
    stopping: () => stopping,
  });

  const renewal = watchAttempts(deps, id, held, {
    leaseSeconds,
    // At least three renewals within a lease: one lost to a slow database does not lose the event.
    everyMs: options.renewMs ?? Math.min(DEFAULT_RENEW_MS, (leaseSeconds * 1000) / 3),
    attemptTimeoutMs,
  });

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
    const claimed = await claimWebhookEvents(sql, id, concurrency, deps.config.eventLeaseSeconds);
    if (claimed.length === 0) return;
    await Promise.all(claimed.map((queued) => processQueuedEvent(deps, queued, id)));
    await sleep(0);
  }
}
