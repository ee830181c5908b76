import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { type Db, hashPassword, verifyPassword, withAuth } from '@crm/db';
import {
  createSession,
  deleteExpiredSessions,
  deleteSessionByTokenHash,
  findUserForLogin,
  markLoginSucceeded,
  pruneLoginAttempts,
  reserveLoginAttempt,
} from '@crm/db/owner';
import pLimit from 'p-limit';
import { hashSessionToken, newSessionToken, SESSION_TTL_SECONDS } from './session.ts';
import { LOGIN_WINDOW_SECONDS, type ThrottleRefusal, throttleVerdict } from './throttle.ts';

/**
 * What one process spends on logins, so a flood of them cannot starve anyone else:
 * - at most LOGINS_IN_FLIGHT logins are under way at once; one more is refused at once ('busy', 429);
 * - at most LOGIN_DB_CONCURRENCY of them hold a database connection at a time — the app_auth pool
 *   (4 connections) keeps the rest for the session lookups of signed-in requests;
 * - at most PASSWORD_CHECK_CONCURRENCY scrypt checks (32 MiB and tens of ms of CPU each) run at once —
 *   half the cores, at least one, so signed-in requests keep the rest — never inside a transaction.
 */
export const LOGINS_IN_FLIGHT = 32;
export const LOGIN_DB_CONCURRENCY = 2;
export const PASSWORD_CHECK_CONCURRENCY = Math.max(1, Math.floor(availableParallelism() / 2));

const dbGate = pLimit(LOGIN_DB_CONCURRENCY);
const passwordGate = pLimit(PASSWORD_CHECK_CONCURRENCY);
let inFlight = 0;

let dummyHash: Promise<string> | null = null;
/** A hash of a random password, so an unknown email costs the same scrypt as a known one. */
function getDummyHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  return dummyHash;
}

export type LoginOutcome =
  | { ok: true; userId: string; token: string }
  | { ok: false; reason: 'invalid_credentials' }
  | { ok: false; reason: 'busy' }
  | ({ ok: false } & ThrottleRefusal);

type LoginInput = {
  email: string;
  password: string;
  ip: string;
  userAgent: string | null;
  previousToken: string | null;
};

/**
 * Checks a password and opens a new session. Throttling is decided (and the attempt recorded) in one
 * short transaction before the password is checked; the check runs outside any transaction; a
 * success then opens the session in a second short transaction. Always a new token, so a cookie
 * planted before login is worthless (no fixation); the presented old session, if any, is deleted.
 */
export async function login(sql: Db, input: LoginInput): Promise<LoginOutcome> {
  if (inFlight >= LOGINS_IN_FLIGHT) return { ok: false, reason: 'busy' };
  inFlight++;
  try {
    return await attempt(sql, input);
  } finally {
    inFlight--;
  }
}

async function attempt(sql: Db, input: LoginInput): Promise<LoginOutcome> {
  const gate = await dbGate(() =>
    withAuth(sql, async (tx) => {
      const reserved = await reserveLoginAttempt(
        tx,
        { email: input.email, ip: input.ip, windowSeconds: LOGIN_WINDOW_SECONDS },
        throttleVerdict,
      );
      if ('refused' in reserved) return reserved;
      const user = await findUserForLogin(tx, input.email);
      return { attemptId: reserved.attemptId, user };
    }),
  );
  if ('refused' in gate) return { ok: false, ...gate.refused };

  const { user, attemptId } = gate;
  const hash = user?.passwordHash ?? (await getDummyHash());
  const passwordOk = await passwordGate(() => verifyPassword(input.password, hash));
  if (!user || !passwordOk) return { ok: false, reason: 'invalid_credentials' };

  const token = newSessionToken();
  await dbGate(() =>
    withAuth(sql, async (tx) => {
      await markLoginSucceeded(tx, attemptId);
      if (input.previousToken) await deleteSessionByTokenHash(tx, hashSessionToken(input.previousToken));
      await createSession(tx, {
        userId: user.id,
        tokenHash: hashSessionToken(token),
        ttlSeconds: SESSION_TTL_SECONDS,
        ip: input.ip,
        userAgent: input.userAgent?.slice(0, 500) ?? null,
      });
      // Housekeeping, now and then: old attempts and long-expired sessions.
      if (Math.random() < 0.05) {
        await pruneLoginAttempts(tx);
        await deleteExpiredSessions(tx);
      }
    }),
  );
  return { ok: true, userId: user.id, token };
}

export async function logout(sql: Db, token: string): Promise<void> {
  await withAuth(sql, (tx) => deleteSessionByTokenHash(tx, hashSessionToken(token)));
}
