import type { Queryable } from '../client.ts';

/** The SQL of login, sessions and throttling. Run inside `withAuth` (role app_auth). */

export type LoginUser = { id: string; passwordHash: string };

export async function findUserForLogin(tx: Queryable, email: string): Promise<LoginUser | null> {
  const [row] = await tx<LoginUser[]>`
    select id, password_hash as "passwordHash" from users where email = ${email}`;
  return row ?? null;
}

/**
 * Serialises the login attempts of one email address (and so makes the throttle exact under
 * concurrent attempts). Transaction-scoped.
 */
export async function lockLoginEmail(tx: Queryable, email: string): Promise<void> {
  await tx`select pg_advisory_xact_lock(hashtextextended(${`login:${email}`}, 0))`;
}

export type RecentFailures = { email: number; ip: number };

/**
 * Failed attempts within the window: for the email, only those since its last successful login; for
 * the address, all of them.
 */
export async function countRecentLoginFailures(
  tx: Queryable,
  input: { email: string; ip: string; windowSeconds: number },
): Promise<RecentFailures> {
  const [row] = await tx<{ email: number; ip: number }[]>`
    with since as (
      select greatest(
        now() - make_interval(secs => ${input.windowSeconds}),
        coalesce(
          (select max(attempted_at) from login_attempts where email = ${input.email} and succeeded),
          '-infinity'::timestamptz
        )
      ) as t
    )
    select
      (select count(*) from login_attempts, since
        where email = ${input.email} and not succeeded and attempted_at > since.t)::int as email,
      (select count(*) from login_attempts
        where ip = ${input.ip} and not succeeded
          and attempted_at > now() - make_interval(secs => ${input.windowSeconds}))::int as ip`;
  return row ?? { email: 0, ip: 0 };
}

export async function recordLoginAttempt(
  tx: Queryable,
  input: { email: string; ip: string; succeeded: boolean },
): Promise<void> {
  await tx`
    insert into login_attempts (email, ip, succeeded) values (${input.email}, ${input.ip}, ${input.succeeded})`;
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
