/**
 * PostgreSQL on the same machine, over its Unix socket named as libpq names it (`?host=/folder`):
 * every pool connects through the socket and the role pools still log in as their roles. A URL with
 * no host (`postgres:///crm`, the socket from PGHOST) cannot carry a role's user: refused, rather
 * than every pool logging in as the owner (to whom, as a superuser, row-level security does not
 * apply).
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createSql } from '../src/client.ts';
import { connectRolePools, ROLE_URL_NEEDS_HOST, roleUrl } from '../src/role-pools.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

let db: TestDatabase;
/** The test database's URL through the server's socket; null when the server has none. */
let socketUrl: string | null = null;

beforeAll(async () => {
  db = await createTestDatabase();
  const [row] = await db.sql<{ dirs: string; port: string }[]>`
    select current_setting('unix_socket_directories') as dirs, current_setting('port') as port`;
  const dir = (row?.dirs ?? '')
    .split(',')
    .map((d) => d.trim())
    .find((d) => d.startsWith('/') && existsSync(`${d}/.s.PGSQL.${row?.port}`));
  if (dir && row) {
    const u = new URL(db.url);
    u.hostname = 'localhost';
    u.port = row.port;
    u.searchParams.set('host', dir);
    socketUrl = u.toString();
  }
});

afterAll(async () => {
  await db?.drop();
});

it('connects through the socket, and each role pool logs in as its role', async (ctx) => {
  if (!socketUrl) return ctx.skip('this server listens on no Unix socket');
  const owner = createSql(socketUrl, { max: 1 });
  const pools = await connectRolePools(socketUrl, { applicationName: 'crm-sockettest' });
  try {
    // inet_server_addr() is null on a Unix socket.
    expect(await owner`select inet_server_addr() as addr`).toEqual([{ addr: null }]);
    const who = async (sql: typeof owner) => {
      const [row] = await sql<{ role: string; addr: string | null }[]>`
        select current_user as role, inet_server_addr() as addr`;
      return row;
    };
    expect(await who(pools.worker)).toEqual({ role: 'app_worker', addr: null });
    expect(await who(pools.ingest)).toEqual({ role: 'app_worker', addr: null });
    expect(await who(pools.user)).toEqual({ role: 'app_user', addr: null });
    expect(await who(pools.auth)).toEqual({ role: 'app_auth', addr: null });
  } finally {
    await pools.end({ timeout: 1 });
    await owner.end({ timeout: 1 });
  }
});

it('refuses a URL without a host, which could not name the roles', () => {
  expect(() => roleUrl('postgres:///crm', 'app_worker')).toThrow(ROLE_URL_NEEDS_HOST);
  expect(roleUrl('postgres://owner@localhost/crm?host=/var/run/postgresql', 'app_worker')).toMatch(
    /^postgres:\/\/app_worker:[^@]+@localhost\/crm\?host=\/var\/run\/postgresql$/,
  );
});
