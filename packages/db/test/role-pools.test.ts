/**
 * The workers' and the webhook route's connections outlive a quiet spell; the others close after 30 s
 * idle. A store's orders often come minutes apart: on a new connection each paid again for the login,
 * its statements' preparation and plans, and the new session's page faults (BENCHMARKS.md, session 14).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectRolePools, type RolePools } from '../src/role-pools.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

let db: TestDatabase;
let pools: RolePools;

beforeAll(async () => {
  db = await createTestDatabase();
  pools = await connectRolePools(db.url, { applicationName: 'crm-pooltest' });
});

afterAll(async () => {
  await pools?.end({ timeout: 1 });
  await db?.drop();
});

const backendOf = async (sql: RolePools['worker']) => {
  const [row] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
  return row?.pid;
};

it('keeps the worker and ingest connections through 31 s of quiet, and closes the user pool one', async () => {
  const before = {
    worker: await backendOf(pools.worker),
    ingest: await backendOf(pools.ingest),
    user: await backendOf(pools.user),
  };
  await new Promise((resolve) => setTimeout(resolve, 31_000));
  const after = {
    worker: await backendOf(pools.worker),
    ingest: await backendOf(pools.ingest),
    user: await backendOf(pools.user),
  };
  expect(after.worker).toBe(before.worker);
  expect(after.ingest).toBe(before.ingest);
  // The pause was longer than an ordinary pool keeps an idle connection.
  expect(after.user).not.toBe(before.user);
}, 60_000);
