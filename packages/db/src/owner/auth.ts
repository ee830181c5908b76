import type { Queryable } from '../client.ts';

/** The SQL of login, sessions and throttling. Run inside `withAuth` (role app_auth). */

export type LoginUser = { id: string; passwordHash: string };

export async function findUserForLogin(tx: Queryable, email: string): Promise<LoginUser | null> {
  const [row] = await tx<LoginUser[]>`
    select id, password_hash as "passwordHash" from users where email = ${email}`;
  return row ?? null;
}

export type LoginAttemptStats = {
  /** Failures of this email from this address in the window, since that pair's last success. */
  pairFailures: number;
  pairLastFailureAt: Date | null;
  /** Failures of this email from anywhere in the window, since its last success. */
  accountFailures: number;
  accountLastFailureAt: Date | null;
  /** Failures from this address (any email) in the window, and the oldest of them. */
  ipFailures: number;
  ipOldestFailureAt: Date | null;
  now: Date;
};

/**
 * The throttle's one atomic step: under transaction-scoped locks of the address and then the email
 * (always in that order, so two attempts never deadlock), reads the recent failures and, if
 * `decide` admits the attempt (returns null), records it at once as a failure — a reservation that
 * markLoginSucceeded turns into a success. Concurrent attempts therefore each see the ones admitted
 * before them, and no limit lets more through than it allows.
 */
export async function reserveLoginAttempt<T>(
  tx: Queryable,
  input: { email: string; ip: string; windowSeconds: number },
  decide: (stats: LoginAttemptStats) => T | null,
): Promise<{ attemptId: string } | { refused: T }> {
  await tx`select pg_advisory_xact_lock(hashtextextended(${`login-ip:${input.ip}`}, 0))`;
  await tx`select pg_advisory_xact_lock(hashtextextended(${`login:${input.email}`}, 0))`;
  const [row] = await tx<LoginAttemptStats[]>`
    with w as (select now() - make_interval(secs => ${input.windowSeconds}) as t),
    ok as (
      select coalesce(max(attempted_at) filter (where ip = ${input.ip}), '-infinity') as pair,
             coalesce(max(attempted_at), '-infinity') as account
      from login_attempts where email = ${input.email} and succeeded
    ),
    acct as (
      select a.ip, a.attempted_at from login_attempts a, w, ok
      where a.email = ${input.email} and not a.succeeded and a.attempted_at > greatest(w.t, ok.account)
    ),
    pair as (
      select a.attempted_at from login_attempts a, w, ok
      where a.email = ${input.email} and a.ip = ${input.ip} and not a.succeeded
        and a.attempted_at > greatest(w.t, ok.pair)
    ),
    addr as (
      select a.attempted_at from login_attempts a, w
      where a.ip = ${input.ip} and not a.succeeded and a.attempted_at > w.t
    )
    select
      (select count(*) from pair)::int as "pairFailures",
      (select max(attempted_at) from pair) as "pairLastFailureAt",
      (select count(*) from acct)::int as "accountFailures",
      (select max(attempted_at) from acct) as "accountLastFailureAt",
      (select count(*) from addr)::int as "ipFailures",
      (select min(attempted_at) from addr) as "ipOldestFailureAt",
      now() as now`;
  if (!row) throw new Error('login attempt statistics not read');
  const refused = decide(row);
  if (refused !== null) return { refused };
  const [attempt] = await tx<{ id: string }[]>`
    insert into login_attempts (email, ip, succeeded) values (${input.email}, ${input.ip}, false)
    returning id::text as id`;
  if (!attempt) throw new Error('login attempt not recorded');
  return { attemptId: attempt.id };
}

/** Turns a reserved attempt into a success (which resets the account's and the pair's counts). */
export async function markLoginSucceeded(tx: Queryable, attemptId: string): Promise<void> {
  await tx`update login_attempts set succeeded = true where id = ${attemptId}::bigint`;
}

/** Forgets attempts older than a day: the throttle only ever looks back minutes. */
export async function pruneLoginAttempts(tx: Queryable): Promise<void> {
  await tx`delete from login_attempts where attempted_at < now() - interval '1 day'`;
}

export async function createSession(
  tx: Queryable,
  input: {
    userId: string;
    tokenHash: Buffer;
    ttlSeconds: number;
    ip: string | null;
    userAgent: string | null;
  },
): Promise<{ id: string; expiresAt: Date }> {
  const [row] = await tx<{ id: string; expiresAt: Date }[]>`
    insert into sessions (user_id, token_hash, expires_at, ip, user_agent)
    values (${input.userId}, ${input.tokenHash}, now() + make_interval(secs => ${input.ttlSeconds}),
            ${input.ip}, ${input.userAgent})
    returning id, expires_at as "expiresAt"`;
  if (!row) throw new Error('session not created');
  return row;
}

export async function deleteSessionByTokenHash(tx: Queryable, tokenHash: Buffer): Promise<boolean> {
  const rows = await tx`delete from sessions where token_hash = ${tokenHash} returning id`;
  return rows.length > 0;
}

export type ActiveSession = { sessionId: string; userId: string; expiresAt: Date };

/**
 * The live session of a token hash, or null when unknown or expired. Sliding expiry: a session used
 * more than `touchAfterSeconds` after it was last seen is extended to `ttlSeconds` from now.
 */
export async function touchSession(
  tx: Queryable,
  input: { tokenHash: Buffer; ttlSeconds: number; touchAfterSeconds: number },
): Promise<ActiveSession | null> {
  const [row] = await tx<(ActiveSession & { lastSeenAt: Date; stale: boolean })[]>`
    select id as "sessionId", user_id as "userId", expires_at as "expiresAt",
           last_seen_at < now() - make_interval(secs => ${input.touchAfterSeconds}) as stale
    from sessions
    where token_hash = ${input.tokenHash} and expires_at > now()`;
  if (!row) return null;
  if (!row.stale) return { sessionId: row.sessionId, userId: row.userId, expiresAt: row.expiresAt };
  const [touched] = await tx<ActiveSession[]>`
    update sessions
    set last_seen_at = now(), expires_at = now() + make_interval(secs => ${input.ttlSeconds})
    where id = ${row.sessionId} and expires_at > now()
    returning id as "sessionId", user_id as "userId", expires_at as "expiresAt"`;
  return touched ?? null;
}

/** Removes expired sessions (housekeeping; expired ones are never honoured anyway). */
export async function deleteExpiredSessions(tx: Queryable): Promise<void> {
  await tx`delete from sessions where expires_at < now() - interval '1 day'`;
}
