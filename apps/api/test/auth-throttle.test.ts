/**
 * Login throttling through login_attempts: 5 failures in 15 minutes lock an account (even for the
 * right password) until the window passes; 20 failures from one address lock that address.
 */
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const login = (email: string, password?: string) => new TrpcClient(world.app.url).login(email, password);

describe('login throttling', () => {
  it('locks an account after 5 failures, even for the right password, with a clear message', async () => {
    for (let i = 0; i < 5; i++)
      expect(codeOf(await login('admin@demo.test', `wrong-${i}`))).toBe('UNAUTHORIZED');
    const r = await login('admin@demo.test');
    expect(codeOf(r)).toBe('TOO_MANY_REQUESTS');
    expect(r.status).toBe(429);
    if (r.ok) throw new Error('unreachable');
    expect(r.error.message).toMatch(/Too many failed sign-in attempts for this account/);
    expect(r.setCookie.filter((c) => c.startsWith('crm_session=') && !/Max-Age=0/.test(c))).toEqual([]);
    // Other accounts from the same address are not locked by it.
    expect(codeOf(await login('agent@demo.test'))).toBe('OK');
    // Once the failures are older than 15 minutes, the account opens again.
    await db.sql`update login_attempts set attempted_at = now() - interval '16 minutes' where email = 'admin@demo.test'`;
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
    await db.sql`delete from login_attempts`;
    // 19 earlier failures from this address, spread over other emails (as a password spray would).
    await db.sql`
      insert into login_attempts (email, ip, succeeded)
      select 'spray-' || g || '@demo.test', '127.0.0.1', false from generate_series(1, 19) g`;
    expect(codeOf(await login('unknown@demo.test', 'x'))).toBe('UNAUTHORIZED');
    const r = await login('owner@demo.test');
    expect(codeOf(r)).toBe('TOO_MANY_REQUESTS');
    if (r.ok) throw new Error('unreachable');
    expect(r.error.message).toMatch(/from your network/);
    await db.sql`update login_attempts set attempted_at = now() - interval '16 minutes'`;
    expect(codeOf(await login('owner@demo.test'))).toBe('OK');
  });

  it('counts concurrent failures exactly (attempts of one account are serialised)', async () => {
    await db.sql`delete from login_attempts`;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => login('owner@demo.test', `wrong-concurrent-${i}`)),
    );
    const codes = results.map(codeOf).sort();
    expect(codes.filter((c) => c === 'UNAUTHORIZED').length).toBe(5);
    expect(codes.filter((c) => c === 'TOO_MANY_REQUESTS').length).toBe(5);
    const [row] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from login_attempts where email = 'owner@demo.test'`;
    expect(row?.n).toBe(5);
  });
});
