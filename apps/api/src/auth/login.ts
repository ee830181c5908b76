import { randomBytes } from 'node:crypto';
import { type Db, hashPassword, verifyPassword, withAuth } from '@crm/db';
import {
  countRecentLoginFailures,
  createSession,
  deleteExpiredSessions,
  deleteSessionByTokenHash,
  findUserForLogin,
  lockLoginEmail,
  pruneLoginAttempts,
  recordLoginAttempt,
} from '@crm/db/owner';
import { hashSessionToken, newSessionToken, SESSION_TTL_SECONDS } from './session.ts';

/** Login throttling: failures within the window, per account (since its last success) and per address. */
export const LOGIN_WINDOW_SECONDS = 15 * 60;
export const MAX_FAILURES_PER_EMAIL = 5;
export const MAX_FAILURES_PER_IP = 20;

let dummyHash: Promise<string> | null = null;
/** A hash of a random password, so an unknown email costs the same scrypt as a known one. */
function getDummyHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  return dummyHash;
}

export type LoginOutcome =
  | { ok: true; userId: string; token: string }
  | { ok: false; reason: 'invalid_credentials' | 'throttled_email' | 'throttled_ip' };

/**
 * Checks a password and opens a new session. Always a new token, so a cookie planted before login
 * is worthless (no fixation); the presented old session, if any, is deleted. One transaction per
 * attempt, serialised per email, so the throttle counts exactly.
 */
export async function login(
  sql: Db,
  input: {
    email: string;
    password: string;
    ip: string;
    userAgent: string | null;
    previousToken: string | null;
  },
): Promise<LoginOutcome> {
  const dummy = await getDummyHash();
  return withAuth(sql, async (tx): Promise<LoginOutcome> => {
    await lockLoginEmail(tx, input.email);
    const failures = await countRecentLoginFailures(tx, {
      email: input.email,
      ip: input.ip,
      windowSeconds: LOGIN_WINDOW_SECONDS,
    });
    if (failures.email >= MAX_FAILURES_PER_EMAIL) return { ok: false, reason: 'throttled_email' };
    if (failures.ip >= MAX_FAILURES_PER_IP) return { ok: false, reason: 'throttled_ip' };

    const user = await findUserForLogin(tx, input.email);
    const passwordOk = await verifyPassword(input.password, user?.passwordHash ?? dummy);
    const ok = user !== null && passwordOk;
    await recordLoginAttempt(tx, { email: input.email, ip: input.ip, succeeded: ok });
    // Housekeeping, now and then: old attempts and long-expired sessions.
    if (Math.random() < 0.01) {
      await pruneLoginAttempts(tx);
      await deleteExpiredSessions(tx);
    }
    if (!ok || !user) return { ok: false, reason: 'invalid_credentials' };

    if (input.previousToken) await deleteSessionByTokenHash(tx, hashSessionToken(input.previousToken));
    const token = newSessionToken();
    await createSession(tx, {
      userId: user.id,
      tokenHash: hashSessionToken(token),
      ttlSeconds: SESSION_TTL_SECONDS,
      ip: input.ip,
      userAgent: input.userAgent?.slice(0, 500) ?? null,
    });
    return { ok: true, userId: user.id, token };
  });
}

export async function logout(sql: Db, token: string): Promise<void> {
  await withAuth(sql, (tx) => deleteSessionByTokenHash(tx, hashSessionToken(token)));
}
