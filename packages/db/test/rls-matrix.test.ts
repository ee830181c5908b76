/**
 * The RLS matrix: for every actor and every tenant table, what each may select, insert, update and
 * delete in workspace A and in workspace B — run against the real policies, every probe in its own
 * transaction that is rolled back. A new tenant table is one entry of TABLES.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tx } from '../src/client.ts';
import { savepoint, transaction, withUser, withWorkerRouting, withWorkspace } from '../src/rls.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';
import { buildFixtures, type Fixtures, type WorkspaceFixture } from './fixtures.ts';
import { asRole, pgErrorCode, randomPhone, rolledBack, uniqueSuffix } from './helpers.ts';

type Op = 'select' | 'insert' | 'update' | 'delete';
const OPS: Op[] = ['select', 'insert', 'update', 'delete'];
/** app_user: who may do it — any member of the row's workspace, its owner only, or nobody (no grant). */
type UserRule = 'member' | 'owner' | 'never';
/** app_worker: for the workspace it acts for, for every workspace, or never (no grant). */
type WorkerRule = 'current' | 'all' | 'never';
type Row = Record<string, unknown>;

type TableSpec = {
  table: string;
  /** The column that names the row's workspace. */
  ws: 'workspace_id' | 'id';
  /** A column that updates set to itself. */
  touch: string;
  user: Record<Op, UserRule>;
  worker: Record<Op, WorkerRule>;
  /** A valid new row for the workspace (so only a policy can refuse it). */
  row: (w: WorkspaceFixture, f: Fixtures, tx: Tx) => Row;
  /** The row that the delete probe removes: referenced by nothing. */
  spare: (w: WorkspaceFixture) => [column: string, value: string];
  /** Runs as the actor before the insert (in a savepoint, errors ignored): makes room under a unique key. */
  beforeInsert?: (tx: Tx, w: WorkspaceFixture) => Promise<unknown>;
};

const rw = <R extends string>(select: R, insert: R, update: R, del: R): Record<Op, R> => ({
  select,
  insert,
  update,
  delete: del,
});
const CRM_USER = rw<UserRule>('member', 'member', 'member', 'member');
const CRM_WORKER = rw<WorkerRule>('current', 'current', 'current', 'current');

// biome-ignore format: one entry per table reads as a matrix
const TABLES: TableSpec[] = [
  { table: 'contacts', ws: 'workspace_id', touch: 'name', user: CRM_USER, worker: CRM_WORKER,
    row: (w) => ({ workspace_id: w.id, name: 'New Contact', phone: randomPhone() }),
    spare: (w) => ['id', w.spareContact] },
  { table: 'pipelines', ws: 'workspace_id', touch: 'name', user: CRM_USER, worker: CRM_WORKER,
    row: (w) => ({ workspace_id: w.id, name: 'New pipeline' }),
    spare: (w) => ['id', w.sparePipeline] },
  { table: 'pipeline_stages', ws: 'workspace_id', touch: 'name', user: CRM_USER, worker: CRM_WORKER,
    row: (w) => ({ workspace_id: w.id, pipeline_id: w.pipeline, name: 'New stage', position: 9 }),
    spare: (w) => ['id', w.spareStage] },
  { table: 'products', ws: 'workspace_id', touch: 'title', user: CRM_USER, worker: CRM_WORKER,
    row: (w) => ({ workspace_id: w.id, sku: `NEW-${uniqueSuffix()}`, title: 'New', price: '1.00' }),
    spare: (w) => ['id', w.spareProduct] },
  { table: 'orders', ws: 'workspace_id', touch: 'description', user: CRM_USER, worker: CRM_WORKER,
    row: (w) => ({ workspace_id: w.id, contact_id: w.contact, pipeline_id: w.pipeline, stage_id: w.stage }),
    spare: (w) => ['id', w.spareOrder] },
  { table: 'order_products', ws: 'workspace_id', touch: 'title', user: CRM_USER, worker: CRM_WORKER,
    row: (w) => ({ workspace_id: w.id, order_id: w.order, sku: 'X', title: 'X', unit_price: '1.00', quantity: 1, subtotal: '1.00' }),
    spare: (w) => ['id', w.spareLine] },
  { table: 'contact_reviews', ws: 'workspace_id', touch: 'reasons', user: CRM_USER, worker: CRM_WORKER,
    row: (w) => ({ workspace_id: w.id, order_id: w.order, contact_id: w.contact, candidate_contact_id: w.spareContact }),
    spare: (w) => ['id', w.spareReview] },
  { table: 'integrations', ws: 'workspace_id', touch: 'name',
    user: rw('member', 'owner', 'owner', 'owner'), worker: rw('all', 'never', 'current', 'never'),
    row: (w, _f, tx) => ({ workspace_id: w.id, type: 'shopify', config: tx.json({ shopDomain: `new-${uniqueSuffix()}.myshopify.com` }) }),
    spare: (w) => ['id', w.integration],
    // One integration per (workspace, type): whoever may insert may also delete the existing one.
    beforeInsert: (tx, w) => tx`delete from integrations where workspace_id = ${w.id}` },
  { table: 'webhook_events', ws: 'workspace_id', touch: 'attempts',
    user: rw('member', 'never', 'never', 'never'), worker: CRM_WORKER,
    row: (w) => ({ workspace_id: w.id, integration_id: w.integration, external_id: uniqueSuffix(), topic: 'orders/create', shop_domain: 'x.myshopify.com', payload: '{}' }),
    spare: (w) => ['id', w.spareEvent] },
  { table: 'reconcile_runs', ws: 'workspace_id', touch: 'pages',
    user: rw('member', 'owner', 'never', 'never'), worker: rw('current', 'current', 'current', 'never'),
    row: (w) => ({ workspace_id: w.id, integration_id: w.integration, since: new Date() }),
    spare: (w) => ['id', w.spareRun] },
  { table: 'workspaces', ws: 'id', touch: 'name',
    user: rw('member', 'never', 'owner', 'never'), worker: rw('current', 'never', 'never', 'never'),
    row: () => ({ name: 'New workspace', slug: `new-${uniqueSuffix()}` }),
    spare: (w) => ['id', w.id] },
  { table: 'workspace_members', ws: 'workspace_id', touch: 'role',
    user: rw('member', 'owner', 'owner', 'owner'), worker: rw('never', 'never', 'never', 'never'),
    row: (w, f) => ({ workspace_id: w.id, user_id: f.users.newcomer, role: 'agent' }),
    spare: (w) => ['user_id', w.spareMember] },
  { table: 'integration_connection_tests', ws: 'workspace_id', touch: 'shop_name',
    user: rw('owner', 'owner', 'never', 'owner'), worker: rw('never', 'never', 'never', 'never'),
    row: (w) => ({ workspace_id: w.id, fingerprint: Buffer.from(uniqueSuffix()), shop_domain: 'x.myshopify.com' }),
    spare: (w) => ['id', w.connectionTest] },
  // A "Connect with Shopify" state is the owner's own: the fixture rows are the owner's.
  { table: 'shopify_oauth_states', ws: 'workspace_id', touch: 'used_at',
    user: rw('owner', 'owner', 'owner', 'owner'), worker: rw('never', 'never', 'never', 'never'),
    row: (w) => ({ nonce_hash: Buffer.from(uniqueSuffix()), user_id: w.owner, workspace_id: w.id, session_hash: Buffer.from('s'), shop_domain: 'x.myshopify.com' }),
    spare: (w) => ['nonce_hash', w.oauthState] },
];

type Outcome = number | 'denied';
type Opener = (fn: (tx: Tx) => Promise<never>) => Promise<unknown>;

let db: TestDatabase;
let f: Fixtures;
/** Rows per table per workspace, as the superuser sees them. */
const counts = new Map<string, number>();
const countKey = (table: string, ws: string) => `${table}:${ws}`;

async function outcome(probe: () => Promise<number>): Promise<Outcome> {
  try {
    return await probe();
  } catch (error) {
    // Both "permission denied" (no grant) and "new row violates row-level security policy" are 42501;
    // anything else (a foreign key, a unique key) means the fixture is wrong, not the policy.
    if ((error as { code?: string }).code === '42501') return 'denied';
    throw error;
  }
}

async function probe(open: Opener, spec: TableSpec, op: Op, w: WorkspaceFixture): Promise<Outcome> {
  return outcome(() =>
    rolledBack(open, async (tx) => {
      const table = tx(spec.table);
      const ws = tx(spec.ws);
      switch (op) {
        case 'select': {
          const [row] = await tx<
            { n: number }[]
          >`select count(*)::int as n from ${table} where ${ws} = ${w.id}`;
          return row?.n ?? -1;
        }
        case 'insert': {
          if (spec.beforeInsert) {
            const before = spec.beforeInsert;
            await savepoint(tx, (sp) => before(sp, w)).catch(() => {});
          }
          return (await tx`insert into ${table} ${tx(spec.row(w, f, tx))}`).count;
        }
        case 'update': {
          const col = tx(spec.touch);
          return (await tx`update ${table} set ${col} = ${col} where ${ws} = ${w.id}`).count;
        }
        case 'delete': {
          const [column, value] = spec.spare(w);
          return (await tx`delete from ${table} where ${ws} = ${w.id} and ${tx(column)} = ${value}`).count;
        }
      }
    }),
  );
}

function expected(spec: TableSpec, op: Op, w: WorkspaceFixture, allowed: boolean, noGrant: boolean): Outcome {
  if (noGrant) return 'denied';
  const all = counts.get(countKey(spec.table, w.id)) ?? -1;
  switch (op) {
    case 'select':
    case 'update':
      return allowed ? all : 0;
    case 'insert':
      return allowed ? 1 : 'denied';
    case 'delete':
      return allowed ? 1 : 0;
  }
}

async function matrix(open: Opener, spec: TableSpec): Promise<Record<string, Outcome>> {
  const cells = OPS.flatMap((op) =>
    (['A', 'B'] as const).map(async (name) => {
      const w = name === 'A' ? f.a : f.b;
      return [`${op} ${name}`, await probe(open, spec, op, w)] as const;
    }),
  );
  return Object.fromEntries(await Promise.all(cells));
}

beforeAll(async () => {
  db = await createTestDatabase();
  f = await buildFixtures(db.sql);
  for (const spec of TABLES) {
    for (const w of [f.a, f.b]) {
      const [row] = await db.sql<{ n: number }[]>`
        select count(*)::int as n from ${db.sql(spec.table)} where ${db.sql(spec.ws)} = ${w.id}`;
      counts.set(countKey(spec.table, w.id), row?.n ?? 0);
    }
  }
});
afterAll(async () => {
  await db?.drop();
});

it('the fixtures put rows of both workspaces in every table of the matrix', () => {
  for (const spec of TABLES) {
    expect(counts.get(countKey(spec.table, f.a.id)), spec.table).toBeGreaterThan(0);
    expect(counts.get(countKey(spec.table, f.b.id)), spec.table).toBeGreaterThan(0);
  }
});

it('the matrix covers every table that has a workspace_id column, and the workspaces', async () => {
  const rows = await db.sql<{ table_name: string }[]>`
    select distinct table_name from information_schema.columns
    where table_schema = 'public' and column_name = 'workspace_id' order by 1`;
  const covered = TABLES.map((t) => t.table);
  expect(covered).toEqual(expect.arrayContaining([...rows.map((r) => r.table_name), 'workspaces']));
});

it('the superuser can make each insert of the matrix (so a refusal below is the policy, not the row)', async () => {
  for (const spec of TABLES) {
    for (const w of [f.a, f.b]) {
      const n = await rolledBack(
        (fn) => transaction(db.sql, fn),
        async (tx) => {
          if (spec.beforeInsert) await spec.beforeInsert(tx, w);
          return (await tx`insert into ${tx(spec.table)} ${tx(spec.row(w, f, tx))}`).count;
        },
      );
      expect(n, spec.table).toBe(1);
    }
  }
});

type Role = 'owner' | 'admin' | 'agent';
type UserActor = { name: string; open: () => Opener; roles: () => Partial<Record<string, Role>> };

// biome-ignore format: a table of actors
const userActors: UserActor[] = [
  { name: "A's owner", open: () => (fn) => withUser(db.sql, f.users.ownerA, fn), roles: () => ({ [f.a.id]: 'owner' }) },
  { name: "A's admin", open: () => (fn) => withUser(db.sql, f.users.adminA, fn), roles: () => ({ [f.a.id]: 'admin' }) },
  { name: "A's agent", open: () => (fn) => withUser(db.sql, f.users.agentA, fn), roles: () => ({ [f.a.id]: 'agent' }) },
  { name: "B's owner", open: () => (fn) => withUser(db.sql, f.users.ownerB, fn), roles: () => ({ [f.b.id]: 'owner' }) },
  { name: 'a user of no workspace', open: () => (fn) => withUser(db.sql, f.users.newcomer, fn), roles: () => ({}) },
  { name: 'no user (app.user_id unset)', open: () => asRole(db.sql, 'app_user'), roles: () => ({}) },
  { name: "no user (app.user_id = '')", open: () => asRole(db.sql, 'app_user', { 'app.user_id': '' }), roles: () => ({}) },
];

describe.each(userActors)('app_user as $name', (actor) => {
  it.each(TABLES)('$table', async (spec) => {
    const roles = actor.roles();
    const want: Record<string, Outcome> = {};
    for (const op of OPS) {
      for (const [name, w] of [
        ['A', f.a],
        ['B', f.b],
      ] as const) {
        const role = roles[w.id];
        const rule = spec.user[op];
        const allowed = rule === 'member' ? role !== undefined : rule === 'owner' && role === 'owner';
        want[`${op} ${name}`] = expected(spec, op, w, allowed, rule === 'never');
      }
    }
    expect(await matrix(actor.open(), spec)).toEqual(want);
  });
});

type WorkerActor = { name: string; open: () => Opener; current: () => string | null };
const workerActors: WorkerActor[] = [
  { name: 'acting for A', open: () => (fn) => withWorkspace(db.sql, f.a.id, fn), current: () => f.a.id },
  {
    name: 'routing (app.workspace_id empty)',
    open: () => (fn) => withWorkerRouting(db.sql, fn),
    current: () => null,
  },
  { name: 'with app.workspace_id unset', open: () => asRole(db.sql, 'app_worker'), current: () => null },
];

describe.each(workerActors)('app_worker $name', (actor) => {
  it.each(TABLES)('$table', async (spec) => {
    const current = actor.current();
    const want: Record<string, Outcome> = {};
    for (const op of OPS) {
      for (const [name, w] of [
        ['A', f.a],
        ['B', f.b],
      ] as const) {
        const rule = spec.worker[op];
        const allowed = rule === 'all' || (rule === 'current' && current === w.id);
        want[`${op} ${name}`] = expected(spec, op, w, allowed, rule === 'never');
      }
    }
    expect(await matrix(actor.open(), spec)).toEqual(want);
  });
});

describe('no row points into another workspace', () => {
  // Foreign keys are checked without RLS, so a plain `references t (id)` would let A's rows point at
  // B's (and reveal by the error whether an id exists there): references go through (workspace_id, id).
  const refs: [string, (a: WorkspaceFixture, b: WorkspaceFixture) => Row][] = [
    ['orders.contact_id', (a, b) => ({ ...orderOf(a), contact_id: b.contact })],
    ['orders.stage_id', (a, b) => ({ ...orderOf(a), stage_id: b.stage })],
    ['orders.integration_id', (a, b) => ({ ...orderOf(a), integration_id: b.integration })],
  ];
  function orderOf(w: WorkspaceFixture): Row {
    return { workspace_id: w.id, pipeline_id: w.pipeline, stage_id: w.stage };
  }

  it.each(refs)("A's owner cannot write %s pointing into B", async (_name, row) => {
    const code = await pgErrorCode(
      rolledBack(
        (fn) => withUser(db.sql, f.users.ownerA, fn),
        (tx) => tx`insert into orders ${tx(row(f.a, f.b))}`,
      ),
    );
    expect(code).toBe('23503');
  });

  it("a line of A's order cannot name B's product", async () => {
    const code = await pgErrorCode(
      rolledBack(
        (fn) => withUser(db.sql, f.users.ownerA, fn),
        (tx) => tx`update order_products set product_id = ${f.b.product} where id = ${f.a.line}`,
      ),
    );
    expect(code).toBe('23503');
  });

  it("a member cannot move A's row into B, nor B's into A", async () => {
    const intoB = await pgErrorCode(
      rolledBack(
        (fn) => withUser(db.sql, f.users.ownerA, fn),
        (tx) => tx`update contacts set workspace_id = ${f.b.id} where id = ${f.a.spareContact}`,
      ),
    );
    expect(intoB).toBe('42501');
    const fromB = await rolledBack(
      (fn) => withUser(db.sql, f.users.ownerA, fn),
      async (tx) =>
        (await tx`update contacts set workspace_id = ${f.a.id} where id = ${f.b.spareContact}`).count,
    );
    expect(fromB).toBe(0);
  });
});

describe('fails closed', () => {
  it('a malformed app.user_id is an error, not somebody', async () => {
    const code = await pgErrorCode(
      asRole(db.sql, 'app_user', { 'app.user_id': 'not-a-uuid' })((tx) => tx`select count(*) from contacts`),
    );
    expect(code).toBe('22P02');
  });

  it('withUser and withWorkspace refuse an id that is not a UUID before reaching the database', async () => {
    await expect(withUser(db.sql, "' or true --", async () => 1)).rejects.toThrow(/UUID/);
    await expect(withWorkspace(db.sql, '', async () => 1)).rejects.toThrow(/UUID/);
  });

  it('the settings are transaction-local: the next transaction on the pool is nobody again', async () => {
    // One connection, so the second transaction surely reuses the first one's session.
    const { createSql } = await import('../src/client.ts');
    const single = createSql(db.url, { max: 1 });
    try {
      const seen = await withUser(single, f.users.ownerA, (tx) => tx`select id from contacts`);
      expect(seen.length).toBeGreaterThan(0);
      const after = await single<{ reset: boolean; uid: string | null }[]>`
        select current_user = session_user as reset, app.current_user_id()::text as uid`;
      expect(after).toEqual([{ reset: true, uid: null }]);
      const nobody = await asRole(single, 'app_user')((tx) => tx`select id from contacts`);
      expect(nobody).toHaveLength(0);
    } finally {
      await single.end();
    }
  });
});
