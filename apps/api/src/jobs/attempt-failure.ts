/**
 * How a failed attempt at a webhook event ends: the event `failed` (a failure retrying cannot fix, or
 * the last of MAX_EVENT_ATTEMPTS) or back in the queue with exponential backoff.
 *
 * Recording that needs the database. When the attempt failed because the database went away, so does
 * its record: the record is tried again, with backoff, for as long as the event's lease lasts, so that
 * once the database answers again the event is due after its backoff — not only when its lease ends
 * (30 s by default), which is what happened before. The record names its attempt, so a late one can
 * never end a later attempt's lease.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  inWorkerTransaction,
  type QueuedWebhookEvent,
  recordWebhookEventAttemptFailure,
} from '@crm/db/worker';
import type { AppDeps } from '../deps.ts';
import { metrics } from '../metrics.ts';
import { describeFailure } from './errors.ts';

/** Attempts at an event before it ends `failed` (as graphile-worker's jobs had). */
export const MAX_EVENT_ATTEMPTS = 8;

/** Seconds until the retry after a failed attempt (graphile-worker's backoff: e^attempts, at most e^10). */
export function retryDelaySeconds(attempts: number): number {
  return Math.exp(Math.min(Math.max(attempts, 1), 10));
}

/** What the worker running an attempt wants to know of it. */
export type AttemptHooks = {
  /** The session whose transaction holds the event now (an order event's attempt), or null once it ended. */
  inTransaction?: (backendPid: number | null) => void;
  /** Whether a failed attempt's retry should be due at once (the worker drains: another one takes it). */
  retryNow?: () => boolean;
  /** When the worker cut this attempt for running too long: after how many seconds (else null). */
  cutAfterSeconds?: () => number | null;
};

/** The first wait before recording a failure again, doubled after each try up to the second. */
const RECORD_RETRY_FIRST_MS = 250;
const RECORD_RETRY_MAX_MS = 2_000;

/**
 * Runs `record` until it succeeds, for at most `forMs` (or until `giveUp()`, checked between tries).
 * Resolves to its result, or to its last error, with the number of tries.
 */
async function retryRecord<T>(
  record: () => Promise<T>,
  forMs: number,
  giveUp: () => boolean,
): Promise<{ ok: true; value: T; tries: number } | { ok: false; error: unknown; tries: number }> {
  const deadline = performance.now() + forMs;
  let waitMs = RECORD_RETRY_FIRST_MS;
  for (let tries = 1; ; tries++) {
    try {
      return { ok: true, value: await record(), tries };
    } catch (error) {
      if (giveUp() || performance.now() + waitMs > deadline) return { ok: false, error, tries };
      await sleep(waitMs);
      waitMs = Math.min(waitMs * 2, RECORD_RETRY_MAX_MS);
    }
  }
}

/** Records the failure of `worker`'s attempt at `queued` (see the module's comment). */
export async function recordFailure(
  deps: AppDeps,
  queued: QueuedWebhookEvent,
  worker: string,
  error: unknown,
  fields: Record<string, unknown>,
  hooks: AttemptHooks,
): Promise<void> {
  const cutAfter = hooks.cutAfterSeconds?.() ?? null;
  const failure =
    cutAfter === null
      ? describeFailure(error)
      : {
          message: `Processing this event took longer than ${cutAfter} s and was stopped; it will be retried.`,
          permanent: false,
        };
  const last = failure.permanent || queued.attempts >= MAX_EVENT_ATTEMPTS;
  const record = () =>
    inWorkerTransaction(deps.sql, queued.workspaceId, (tx) =>
      recordWebhookEventAttemptFailure(tx, queued.id, {
        error: failure.message,
        final: last,
        worker,
        attempt: queued.attempts,
        retryInSeconds: hooks.retryNow?.() ? 0 : retryDelaySeconds(queued.attempts),
      }),
    );
  // A worker that drains stops trying: it gives back what it holds as it stops.
  const recorded = await retryRecord(record, deps.config.eventLeaseSeconds * 1000, () =>
    Boolean(hooks.retryNow?.()),
  );
  let ended: Awaited<ReturnType<typeof record>> = null;
  if (recorded.ok) {
    ended = recorded.value;
    if (recorded.tries > 1) {
      deps.log.info('recorded a failed webhook event attempt once the database answered', {
        ...fields,
        tries: recorded.tries,
      });
    }
  } else {
    // Not recorded within the lease: the lease ends and the event comes back.
    deps.log.warn('could not record a failed webhook event attempt', {
      ...fields,
      tries: recorded.tries,
      error: (recorded.error as Error).message,
    });
  }
  if (last) {
    if (ended) metrics.eventFinished(ended.topic, 'failed', ended.receivedAt);
    deps.log.warn('webhook event failed', {
      ...fields,
      error: failure.message,
      permanent: failure.permanent,
    });
    return;
  }
  if (ended) metrics.eventFinished(ended.topic, 'retried');
  deps.log.warn('webhook event attempt failed; will retry', { ...fields, error: failure.message });
}
