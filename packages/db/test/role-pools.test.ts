/**
 * The workers' and the webhook route's connections outlive a quiet spell; the others close once idle
 * for their pools' idle timeout (30 s in the app; 1 s here, so that the test need not wait 31 s). A
 * store's orders often come minutes apart: on a new connection each paid again for the login, its
 * statements' preparation and plans, and the new session's page faults (BENCHMARKS.md, session 14).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectRolePools, type RolePools } from '../src/role-pools.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

let db: TestDatabase;
let pools: RolePools;
/** The ordinary pools' idle timeout in this test; the quiet spell below is three times as long. */
const IDLE_S = 1;

beforeAll(async () => {
  db = await createTestDatabase();
  pools = await connectRolePools(db.url, { applicationName: 'crm-pooltest', idleTimeoutSeconds: IDLE_S });
});

afterAll(async () => {
  await pools?.end({ timeout: 1 });
  await db?.drop();
});

const backendOf = async (sql: RolePools['worker']) => {
  const [row] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
  return row?.pid;
};

it('keeps the worker and ingest connections through a quiet spell that closes the user pool one', async () => {
  const before = {
    worker: await backendOf(pools.worker),
    ingest: await backendOf(pools.ingest),
    user: await backendOf(pools.user),
  };
  await new Promise((resolve) => setTimeout(resolve, 3 * IDLE_S * 1000));
  const after = {
    worker: await backendOf(pools.worker),
    ingest: await backendOf(pools.ingest),
    user: await backendOf(pools.user),
  };
  expect(after.worker).toBe(before.worker);
  expect(after.ingest).toBe(before.ingest);
  // The pause was longer than an ordinary pool keeps an idle connection (so this can fail).
  expect(after.user).not.toBe(before.user);
}, 60_000);
