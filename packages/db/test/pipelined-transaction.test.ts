/**
 * The one-round-trip worker transaction (withWorkerPipeline, used by the webhook route): BEGIN, the
 * role and workspace settings, the statements and COMMIT go out together. It must still be one
 * transaction: all or nothing, as app_worker under RLS, and nothing may run after its COMMIT.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../src/client.ts';
import {
  actForWorkspace,
  isConnectionLost,
  PipelineClosedError,
  withWorkerPipeline,
  withWorkspace,
} from '../src/rls.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';
import { buildFixtures, type Fixtures } from './fixtures.ts';
import { pgErrorCode, uniqueSuffix } from './helpers.ts';

let db: TestDatabase;
let f: Fixtures;

beforeAll(async () => {
  db = await createTestDatabase();
  f = await buildFixtures(db.sql);
});
afterAll(async () => {
  await db?.drop();
});

const contactsNamed = async (name: string) => {
  const rows = await db.sql<
    { workspace_id: string }[]
  >`select workspace_id from contacts where name = ${name}`;
  return rows.map((r) => r.workspace_id).sort();
};

describe('withWorkerPipeline', () => {
  it('commits the statements of several workspaces together, each written as app_worker for its workspace', async () => {
    const name = `Pipelined ${uniqueSuffix()}`;
    const seen = await withWorkerPipeline(db.sql, (tx) =>
      Promise.all([
        actForWorkspace(tx, f.a.id),
        tx<{ role: string }[]>`
          insert into contacts (workspace_id, name) values (app.current_workspace_id(), ${name})
          returning current_user as role`,
        actForWorkspace(tx, f.b.id),
        tx`insert into contacts (workspace_id, name) values (app.current_workspace_id(), ${name})`,
      ]),
    );
    expect(seen[1][0]?.role).toBe('app_worker');
    expect(await contactsNamed(name)).toEqual([f.a.id, f.b.id].sort());
  });

  it('writes nothing when one statement fails, and rejects with that failure', async () => {
    const name = `Pipelined ${uniqueSuffix()}`;
    const code = await pgErrorCode(
      withWorkerPipeline(db.sql, (tx) =>
        Promise.all([
          actForWorkspace(tx, f.a.id),
          tx`insert into contacts (workspace_id, name) values (app.current_workspace_id(), ${name})`,
          // Another workspace's row while acting for A: row-level security refuses it.
          tx`insert into contacts (workspace_id, name) values (${f.b.id}, ${name})`,
          tx`insert into contacts (workspace_id, name) values (app.current_workspace_id(), ${`${name} later`})`,
        ]),
      ),
    );
    expect(code).toBe('42501');
    expect(await contactsNamed(name)).toEqual([]);
    expect(await contactsNamed(`${name} later`)).toEqual([]);
    // The pool's connections are fine afterwards.
    const [row] = await withWorkerPipeline(db.sql, (tx) => tx<{ one: number }[]>`select 1 as one`);
    expect(row?.one).toBe(1);
  });

  it('fails fast (CONNECT_TIMEOUT) when no connection comes, and hands back the one that comes late', async () => {
    const one = createSql(db.url, { max: 1 });
    try {
      const held = await one.reserve();
      const started = Date.now();
      const error = await withWorkerPipeline(one, (tx) => tx`select 1`).catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe('CONNECT_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(4000);
      held.release();
      // The reservation that was still waiting got the connection and gave it back.
      const [row] = await withWorkerPipeline(one, (tx) => tx<{ one: number }[]>`select 1 as one`);
      expect(row?.one).toBe(1);
    } finally {
      await one.end({ timeout: 1 });
    }
  });

  it('refuses a statement sent after COMMIT instead of running it outside the transaction', async () => {
    const name = `Pipelined ${uniqueSuffix()}`;
    let late: Promise<unknown> | null = null;
    await withWorkerPipeline(db.sql, async (tx) => {
      await actForWorkspace(tx, f.a.id);
      // Only reached after the pipeline was closed: fn awaited before sending this.
      const attempt = (async () =>
        tx`insert into contacts (workspace_id, name) values (${f.a.id}, ${name})`)();
      attempt.catch(() => {}); // asserted below; handled here so that it is never an unhandled rejection
      late = attempt;
    }).catch(() => {});
    expect(late).not.toBeNull();
    await expect(late).rejects.toBeInstanceOf(PipelineClosedError);
    expect(await contactsNamed(name)).toEqual([]);
  });
});

describe("withWorkspace's last statements (sent with its COMMIT)", () => {
  it('run after the body, on what it wrote, as app_worker for the workspace, and commit with it', async () => {
    const name = `Last ${uniqueSuffix()}`;
    const id = await withWorkspace(
      db.sql,
      f.a.id,
      async (tx) => {
        const [row] = await tx<{ id: string }[]>`
          insert into contacts (workspace_id, name) values (app.current_workspace_id(), ${name}) returning id`;
        if (!row) throw new Error('no row');
        return row.id;
      },
      (tx, contactId) => [
        tx`update contacts set name = name || ' (last)' where id = ${contactId}`,
        null,
        tx`update contacts set city = current_user where id = ${contactId} and workspace_id = app.current_workspace_id()`,
      ],
    );
    const [row] = await db.sql<
      { name: string; city: string }[]
    >`select name, city from contacts where id = ${id}`;
    expect(row).toEqual({ name: `${name} (last)`, city: 'app_worker' });
  });

  it('roll the body back when one of them fails, and reject with its failure', async () => {
    const name = `Last ${uniqueSuffix()}`;
    const code = await pgErrorCode(
      withWorkspace(
        db.sql,
        f.a.id,
        async (tx) => {
          await tx`insert into contacts (workspace_id, name) values (app.current_workspace_id(), ${name})`;
        },
        // Another workspace's row while acting for A: row-level security refuses it.
        (tx) => [tx`insert into contacts (workspace_id, name) values (${f.b.id}, ${name})`],
      ),
    );
    expect(code).toBe('42501');
    expect(await contactsNamed(name)).toEqual([]);
  });

  it('fail, not hang, when the connection ends while COMMIT waits behind a statement being described', async () => {
    // postgres.js describes a statement with parameters before its first run on a connection and
    // holds what the transaction sends meanwhile (here COMMIT) in the reserved connection's own
    // queue, which nothing empties once the connection is gone: a transaction that waited for that
    // COMMIT waited for good (an event attempt hung for the rest of CI's database-down test).
    await expectLostNotHung((pool, tag) =>
      withWorkspace(
        pool,
        f.a.id,
        async (tx) => {
          await tx`select 1`;
        },
        (tx) => [tx`update contacts set name = ${tag} where id = ${randomUUID()}`],
      ),
    );
  });
});

describe('withWorkerPipeline, the connection lost mid-way', () => {
  it('fails, not hangs, when the connection ends while a statement is being described', async () => {
    await expectLostNotHung((pool, tag) =>
      withWorkerPipeline(pool, (tx) =>
        Promise.all([
          actForWorkspace(tx, f.a.id),
          tx`update contacts set name = ${tag} where id = ${randomUUID()}`,
        ]),
      ),
    );
  });
});

/**
 * Runs `transact` on a new pool (nothing prepared yet) while contacts is locked, so that its statement
 * on contacts waits in its description (the parse takes a lock); ends that session, and expects the
 * transaction to fail with a lost connection within 5 s.
 */
async function expectLostNotHung(transact: (pool: Sql, tag: string) => Promise<unknown>): Promise<void> {
  const fresh = createSql(db.url, { max: 1, applicationName: 'crm-test-fresh' });
  const locker = await db.sql.reserve();
  try {
    await locker`begin`;
    await locker`lock table contacts in access exclusive mode`;
    const outcome = transact(fresh, `described-${uniqueSuffix()}`).then(
      () => 'committed',
      (error: unknown) => error,
    );
    let pid: number | undefined;
    for (let i = 0; i < 100 && pid === undefined; i++) {
      const [row] = await db.sql<{ pid: number }[]>`
        select pid from pg_stat_activity
        where application_name = 'crm-test-fresh' and wait_event_type = 'Lock'`;
      pid = row?.pid;
      if (pid === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(pid).toBeDefined();
    await db.sql`select pg_terminate_backend(${pid ?? 0})`;
    const ended = await Promise.race([
      outcome,
      new Promise((r) => setTimeout(() => r('still waiting after 5 s'), 5000)),
    ]);
    expect(isConnectionLost(ended)).toBe(true);
  } finally {
    await locker`rollback`.catch(() => {});
    locker.release();
    await fresh.end({ timeout: 1 });
  }
}
