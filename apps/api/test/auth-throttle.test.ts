/**
 * Login throttling through login_attempts (apps/api/src/auth/throttle.ts): per account and source 5
 * free failures then a doubling backoff; per account from all sources 50; per address 20. Counting
 * is atomic: concurrent attempts never let more through than a limit allows.
 */
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backoffSeconds, throttleVerdict } from '../src/auth/throttle.ts';
import { arrangeWorld, codeOf, TrpcClient, type World } from './trpc-support.ts';

let db: TestDatabase;
let world: World;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await arrangeWorld(db);
});
afterAll(async () => {
  await world?.app.close();
  await db?.drop();
});
beforeEach(async () => {
  await db.sql`delete from login_attempts`;
});

const login = (email: string, password?: string) => new TrpcClient(world.app.url).login(email, password);

/** Failures of `email` from other addresses, `agoSeconds` ago. */
async function failuresElsewhere(email: string, count: number, agoSeconds = 0): Promise<void> {
  await db.sql`
    insert into login_attempts (email, ip, succeeded, attempted_at)
    select ${email}, '10.9.' || (g / 200) || '.' || (g % 200), false, now() - make_interval(secs => ${agoSeconds})
    from generate_series(1, ${count}) g`;
}

async function backdate(email: string, seconds: number): Promise<void> {
  await db.sql`
    update login_attempts set attempted_at = attempted_at - make_interval(secs => ${seconds})
    where email = ${email}`;
}

describe('throttle policy (pure)', () => {
  const now = new Date('2026-01-01T12:00:00Z');
  const ago = (s: number) => new Date(now.getTime() - s * 1000);
  const none = {
    pairFailures: 0,
    pairLastFailureAt: null,
    accountFailures: 0,
    accountLastFailureAt: null,
    ipFailures: 0,
    ipOldestFailureAt: null,
    now,
  };

  it('backs off by doubling from 15 s to at most 15 minutes', () => {
    expect([4, 5, 6, 7, 10, 11, 40].map((f) => backoffSeconds(f, 5))).toEqual([0, 15, 30, 60, 480, 900, 900]);
  });

  it('refuses by source, then account, then address, with how long to wait', () => {
    expect(throttleVerdict(none)).toBeNull();
    const pair = { ...none, pairFailures: 6, pairLastFailureAt: ago(10), accountFailures: 6 };
    expect(throttleVerdict(pair)).toEqual({ reason: 'throttled_source', retryAfterSeconds: 20 });
    expect(throttleVerdict({ ...pair, pairLastFailureAt: ago(31) })).toBeNull();
    const account = { ...none, accountFailures: 50, accountLastFailureAt: ago(5) };
    expect(throttleVerdict(account)).toEqual({ reason: 'throttled_account', retryAfterSeconds: 10 });
    const ip = { ...none, ipFailures: 20, ipOldestFailureAt: ago(600) };
    expect(throttleVerdict(ip)).toEqual({ reason: 'throttled_ip', retryAfterSeconds: 300 });
  });
});

describe('login throttling', () => {
  it('after 5 failures from one address the account waits there (15 s, then doubling), with a clear message', async () => {
    for (let i = 0; i < 5; i++)
      expect(codeOf(await login('admin@demo.test', `wrong-${i}`))).toBe('UNAUTHORIZED');
    const r = await login('admin@demo.test');
    expect(codeOf(r)).toBe('TOO_MANY_REQUESTS');
    expect(r.status).toBe(429);
    if (r.ok) throw new Error('unreachable');
    expect(r.error.message).toMatch(
      /^Too many failed sign-in attempts for this account from your network\. Try again in 1[0-5] seconds\.$/,
    );
    expect(r.setCookie.filter((c) => c.startsWith('crm_session=') && !/Max-Age=0/.test(c))).toEqual([]);
    // Other accounts from the same address are not held up by it.
    expect(codeOf(await login('agent@demo.test'))).toBe('OK');
    // 15 s later one more try is allowed; failing it doubles the wait to 30 s.
    await backdate('admin@demo.test', 16);
    expect(codeOf(await login('admin@demo.test', 'wrong-again'))).toBe('UNAUTHORIZED');
    await backdate('admin@demo.test', 16);
    expect(codeOf(await login('admin@demo.test'))).toBe('TOO_MANY_REQUESTS');
    await backdate('admin@demo.test', 15);
    expect(codeOf(await login('admin@demo.test'))).toBe('OK');
  });

  it('failures from other addresses do not lock the owner out of their own network', async () => {
    await failuresElsewhere('owner@demo.test', 49);
    expect(codeOf(await login('owner@demo.test'))).toBe('OK');
  });

  it('50 failures of an account from anywhere make everyone wait, then open again', async () => {
    await failuresElsewhere('admin@demo.test', 50);
    const r = await login('admin@demo.test');
    expect(codeOf(r)).toBe('TOO_MANY_REQUESTS');
    if (r.ok) throw new Error('unreachable');
    expect(r.error.message).toMatch(/^Too many failed sign-in attempts for this account\. Try again in/);
    await backdate('admin@demo.test', 16);
    expect(codeOf(await login('admin@demo.test'))).toBe('OK');
  });

  it('a success resets the account count', async () => {
    for (let i = 0; i < 4; i++)
      expect(codeOf(await login('agent@demo.test', `wrong-${i}`))).toBe('UNAUTHORIZED');
    expect(codeOf(await login('agent@demo.test'))).toBe('OK');
    for (let i = 0; i < 4; i++)
      expect(codeOf(await login('agent@demo.test', `wrong-${i}`))).toBe('UNAUTHORIZED');
    expect(codeOf(await login('agent@demo.test'))).toBe('OK');
  });

  it('counts unknown emails too, and locks an address after 20 failures', async () => {
    // 19 earlier failures from this address, spread over other emails (as a password spray would).
    await db.sql`
      insert into login_attempts (email, ip, succeeded)
      select 'spray-' || g || '@demo.test', '127.0.0.1', false from generate_series(1, 19) g`;
    expect(codeOf(await login('unknown@demo.test', 'x'))).toBe('UNAUTHORIZED');
    const r = await login('owner@demo.test');
    expect(codeOf(r)).toBe('TOO_MANY_REQUESTS');
    if (r.ok) throw new Error('unreachable');
    expect(r.error.message).toMatch(/from your network\. Try again in 15 minutes\./);
    await db.sql`update login_attempts set attempted_at = now() - interval '16 minutes'`;
    expect(codeOf(await login('owner@demo.test'))).toBe('OK');
  });

  it('counts concurrent failures of one account exactly', async () => {
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => login('owner@demo.test', `wrong-concurrent-${i}`)),
    );
    const codes = results.map(codeOf);
    expect(codes.filter((c) => c === 'UNAUTHORIZED').length).toBe(5);
    expect(codes.filter((c) => c === 'TOO_MANY_REQUESTS').length).toBe(5);
    const [row] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from login_attempts where email = 'owner@demo.test'`;
    expect(row?.n).toBe(5);
  });

  it('counts concurrent failures of one address exactly: 20, not 22', async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => login(`spray-${i}@demo.test`, 'wrong')),
    );
    const codes = results.map(codeOf);
    expect(codes.filter((c) => c === 'UNAUTHORIZED').length).toBe(20);
    expect(codes.filter((c) => c === 'TOO_MANY_REQUESTS').length).toBe(10);
    const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from login_attempts`;
    expect(row?.n).toBe(20);
  });
});
