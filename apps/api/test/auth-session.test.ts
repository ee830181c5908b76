/**
 * Login, sessions and CSRF over real HTTP against a real PostgreSQL: cookie attributes, only the
 * token's hash stored, a new token at every login, sliding expiry, expiry and logout invalidate,
 * mutations need the custom header and a same-site Origin.
 */
import { createHash } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../src/testing/index.ts';
import { arrangeWorld, codeOf, ok, signedIn, TrpcClient, type World } from './trpc-support.ts';

let db: TestDatabase;
let world: World;
let app: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await arrangeWorld(db);
  app = world.app;
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});

const sha256 = (s: string) => createHash('sha256').update(s).digest();

describe('login', () => {
  it('sets an HttpOnly, SameSite=Lax, Path=/ session cookie and stores only its SHA-256', async () => {
    const client = new TrpcClient(app.url);
    const r = await client.login('owner@demo.test');
    const me = ok(r) as { user: { email: string }; workspaces: { name: string; role: string }[] };
    expect(me.user.email).toBe('owner@demo.test');
    expect(me.workspaces.map((w) => [w.name, w.role]).sort()).toEqual([
      ['Demo Outlet', 'agent'],
      ['Demo Store', 'owner'],
    ]);
    const cookie = r.setCookie.find((c) => c.startsWith('crm_session='));
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(/; Max-Age=604800/);
    expect(cookie).not.toMatch(/Secure/);
    const token = client.cookie;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    if (!token) throw new Error('no token');
    const rows = await db.sql<{ token_hash: Buffer; expires_at: Date }[]>`
      select s.token_hash, s.expires_at from sessions s join users u on u.id = s.user_id
      where u.email = 'owner@demo.test'`;
    expect(rows.some((s) => s.token_hash.equals(sha256(token)))).toBe(true);
    // The plaintext token is nowhere in the sessions table.
    const [dump] = await db.sql<
      { t: string }[]
    >`select coalesce(string_agg(s::text, ' '), '') as t from sessions s`;
    expect(dump?.t).not.toContain(token);
    const expiresIn = (rows[0]?.expires_at.getTime() ?? 0) - Date.now();
    expect(expiresIn).toBeGreaterThan(6.9 * 86_400_000);
    expect(expiresIn).toBeLessThanOrEqual(7 * 86_400_000 + 5_000);
  });

  it('marks the cookie Secure when secureCookies is on', async () => {
    const secureApp = await startTestApp(db, { secureCookies: true });
    try {
      const r = await new TrpcClient(secureApp.url).login('agent@demo.test');
      expect(r.setCookie.find((c) => c.startsWith('crm_session='))).toMatch(/; Secure/);
    } finally {
      await secureApp.close();
    }
  });

  it('refuses a wrong password and an unknown email alike', async () => {
    const a = await new TrpcClient(app.url).login('admin@demo.test', 'wrong-password');
    const b = await new TrpcClient(app.url).login('nobody@demo.test', 'wrong-password');
    expect(codeOf(a)).toBe('UNAUTHORIZED');
    expect(codeOf(b)).toBe('UNAUTHORIZED');
    if (a.ok || b.ok) throw new Error('unreachable');
    expect(a.error.message).toBe(b.error.message);
    expect(a.setCookie.filter((c) => c.startsWith('crm_session=') && !/Max-Age=0/.test(c))).toEqual([]);
  });

  it('takes about as long for an unknown email as for a known one (a dummy hash is verified)', async () => {
    const time = async (email: string) => {
      const t0 = performance.now();
      await new TrpcClient(app.url).login(email, 'not-the-password');
      return performance.now() - t0;
    };
    await time('timing-warmup@demo.test');
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 3; i++) {
      known.push(await time('agent@demo.test'));
      unknown.push(await time(`nobody-${i}@demo.test`));
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[1] ?? 0;
    // scrypt dominates both: an unknown email is not answered in a fraction of the time.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.5);
    // Reset the agent's failure count for the rest of the file.
    ok(await new TrpcClient(app.url).login('agent@demo.test'));
  });

  it('issues a new token at every login and discards a planted one (no fixation)', async () => {
    const victim = await signedIn(app, 'admin@demo.test');
    const planted = victim.cookie;
    // The attacker's cookie is the browser's cookie at login: the login must not keep it.
    const r = await victim.login('admin@demo.test');
    ok(r);
    expect(victim.cookie).not.toBe(planted);
    const stale = new TrpcClient(app.url);
    stale.cookie = planted;
    expect(codeOf(await stale.api.auth.me.query())).toBe('UNAUTHORIZED');
    expect(ok(await victim.api.auth.me.query())).toMatchObject({ user: { email: 'admin@demo.test' } });
  });

  it('ignores a made-up cookie', async () => {
    const client = new TrpcClient(app.url);
    client.cookie = 'A'.repeat(43);
    expect(codeOf(await client.api.auth.me.query())).toBe('UNAUTHORIZED');
  });
});

describe('sessions', () => {
  it('needs a session for me, and for every user-data procedure', async () => {
    const anon = new TrpcClient(app.url);
    expect(codeOf(await anon.api.auth.me.query())).toBe('UNAUTHORIZED');
    expect(codeOf(await anon.api.workspaces.list.query())).toBe('UNAUTHORIZED');
    const r = await anon.api.integrations.get.query({ workspaceId: world.demo.workspaceId });
    expect(codeOf(r)).toBe('UNAUTHORIZED');
    expect(r.status).toBe(401);
  });

  it('logout deletes the session row and clears the cookie', async () => {
    const client = await signedIn(app, 'agent@demo.test');
    const token = client.cookie;
    if (!token) throw new Error('no token');
    const r = await client.api.auth.logout.mutate();
    expect(ok(r)).toEqual({ ok: true });
    expect(r.setCookie.find((c) => c.startsWith('crm_session='))).toMatch(/Max-Age=0/);
    const rows = await db.sql`select 1 from sessions where token_hash = ${sha256(token)}`;
    expect(rows.length).toBe(0);
    const replay = new TrpcClient(app.url);
    replay.cookie = token;
    expect(codeOf(await replay.api.auth.me.query())).toBe('UNAUTHORIZED');
  });

  it('an expired session is refused and its cookie cleared', async () => {
    const client = await signedIn(app, 'agent@demo.test');
    const token = client.cookie;
    if (!token) throw new Error('no token');
    ok(await client.api.auth.me.query());
    await db.sql`update sessions set expires_at = now() - interval '1 second' where token_hash = ${sha256(token)}`;
    const r = await client.api.auth.me.query();
    expect(codeOf(r)).toBe('UNAUTHORIZED');
    expect(r.setCookie.find((c) => c.startsWith('crm_session='))).toMatch(/Max-Age=0/);
    expect(codeOf(await client.api.workspaces.list.query())).toBe('UNAUTHORIZED');
  });

  it('slides: a session used after a while is extended to 7 days from now', async () => {
    const client = await signedIn(app, 'agent@demo.test');
    const token = client.cookie;
    if (!token) throw new Error('no token');
    await db.sql`
      update sessions set last_seen_at = now() - interval '2 days', expires_at = now() + interval '5 days'
      where token_hash = ${sha256(token)}`;
    ok(await client.api.auth.me.query());
    const [row] = await db.sql<{ expires_at: Date; last_seen_at: Date }[]>`
      select expires_at, last_seen_at from sessions where token_hash = ${sha256(token)}`;
    expect((row?.expires_at.getTime() ?? 0) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    expect(Date.now() - (row?.last_seen_at.getTime() ?? 0)).toBeLessThan(60_000);
  });
});

describe('CSRF', () => {
  it('refuses a mutation without the x-trpc-source header, even with a valid session', async () => {
    const client = await signedIn(app, 'owner@demo.test');
    const bare = new TrpcClient(app.url, { csrfHeader: false });
    bare.cookie = client.cookie;
    const r = await bare.api.integrations.setEnabled.mutate({
      workspaceId: world.demo.workspaceId,
      enabled: false,
    });
    expect(codeOf(r)).toBe('FORBIDDEN');
    if (r.ok) throw new Error('unreachable');
    expect(r.error.message).toMatch(/x-trpc-source/);
    const [row] = await db.sql<{ is_active: boolean }[]>`
      select is_active from integrations where workspace_id = ${world.demo.workspaceId}`;
    expect(row?.is_active).toBe(true);
    // Login is a mutation too (login CSRF).
    expect(codeOf(await new TrpcClient(app.url, { csrfHeader: false }).login('owner@demo.test'))).toBe(
      'FORBIDDEN',
    );
    // Queries need no header.
    expect(codeOf(await bare.api.auth.me.query())).toBe('OK');
  });

  it('refuses a mutation from another Origin and accepts this one', async () => {
    const client = await signedIn(app, 'owner@demo.test');
    const evil = new TrpcClient(app.url, { headers: { origin: 'https://evil.example' } });
    evil.cookie = client.cookie;
    expect(codeOf(await evil.api.auth.logout.mutate())).toBe('FORBIDDEN');
    const crossSite = new TrpcClient(app.url, { headers: { 'sec-fetch-site': 'cross-site' } });
    crossSite.cookie = client.cookie;
    expect(codeOf(await crossSite.api.auth.logout.mutate())).toBe('FORBIDDEN');
    expect(codeOf(await client.api.auth.me.query())).toBe('OK');
    const same = new TrpcClient(app.url, { headers: { origin: app.url } });
    same.cookie = client.cookie;
    expect(codeOf(await same.api.auth.logout.mutate())).toBe('OK');
  });
});
