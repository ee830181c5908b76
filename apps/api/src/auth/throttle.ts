import type { LoginAttemptStats } from '@crm/db/owner';

/**
 * Login throttling, decided before any password is checked. Failures are counted within a 15-minute
 * window:
 * - per account and source (email + address): 5 free failures, then each further attempt must wait
 *   a delay that doubles from 15 s up to 15 minutes after the pair's last failure;
 * - per account from all sources: 50 free failures, then the same doubling backoff for everyone —
 *   so someone who only knows an email cannot lock its owner out from their own network, and a
 *   distributed guesser is slowed to a trickle;
 * - per source (any email): 20 failures, then that address waits until its oldest failure leaves
 *   the window.
 * A success resets the account's and the pair's counts (not the address's).
 */
export const LOGIN_WINDOW_SECONDS = 15 * 60;
export const FREE_FAILURES_PER_SOURCE = 5;
export const FREE_FAILURES_PER_ACCOUNT = 50;
export const MAX_FAILURES_PER_IP = 20;
export const FIRST_BACKOFF_SECONDS = 15;
export const MAX_BACKOFF_SECONDS = 15 * 60;

export type ThrottleRefusal = {
  reason: 'throttled_source' | 'throttled_account' | 'throttled_ip';
  retryAfterSeconds: number;
};

/** The wait after `failures` failures, `free` of which cost nothing: 0, then 15 s, 30 s, … up to 15 min. */
export function backoffSeconds(failures: number, free: number): number {
  if (failures < free) return 0;
  const doublings = Math.min(failures - free, 16);
  return Math.min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** doublings);
}

function remaining(since: Date | null, waitSeconds: number, now: Date): number {
  if (since === null || waitSeconds <= 0) return 0;
  return Math.max(0, Math.ceil((since.getTime() + waitSeconds * 1000 - now.getTime()) / 1000));
}

/** Null when the attempt may go ahead; else why not and for how long. */
export function throttleVerdict(stats: LoginAttemptStats): ThrottleRefusal | null {
  const { now } = stats;
  if (stats.ipFailures >= MAX_FAILURES_PER_IP) {
    const wait = remaining(stats.ipOldestFailureAt, LOGIN_WINDOW_SECONDS, now);
    if (wait > 0) return { reason: 'throttled_ip', retryAfterSeconds: wait };
  }
  const pairWait = remaining(
    stats.pairLastFailureAt,
    backoffSeconds(stats.pairFailures, FREE_FAILURES_PER_SOURCE),
    now,
  );
  if (pairWait > 0) return { reason: 'throttled_source', retryAfterSeconds: pairWait };
  const accountWait = remaining(
    stats.accountLastFailureAt,
    backoffSeconds(stats.accountFailures, FREE_FAILURES_PER_ACCOUNT),
    now,
  );
  if (accountWait > 0) return { reason: 'throttled_account', retryAfterSeconds: accountWait };
  return null;
}

/** A wait in words: "40 seconds", "3 minutes". */
export function waitInWords(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  return `${Math.ceil(seconds / 60)} minutes`;
}
