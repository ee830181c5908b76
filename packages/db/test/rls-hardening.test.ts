/**
 * The wall itself: the application roles cannot switch row-level security off, leave their role,
 * read what is not theirs (password hashes, sessions, pg_authid), and every table has RLS forced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tx } from '../src/client.ts';
import { savepoint, withAuth, withUser, withWorkerRouting, withWorkspace } from '../src/rls.ts';
import { connectRolePools, type RolePools } from '../src/role-pools.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';
import { buildFixtures, type Fixtures } from './fixtures.ts';
import { asRole, pgErrorCode, rolledBack } from './helpers.ts';

const APP_ROLES = ['app_user', 'app_worker', 'app_auth', 'app_rls'];

let db: TestDatabase;
let f: Fixtures;
let pools: RolePools;

beforeAll(async () => {
  db = await createTestDatabase();
  f = await buildFixtures(db.sql);
  pools = await connectRolePools(db.url);
});
afterAll(async () => {
  await pools?.end({ timeout: 1 });
  await db?.drop();
});

/** The SQLSTATE of running `statement` as A's owner (in a transaction that is rolled back). */
function asOwnerA(statement: (tx: Tx) => Promise<unknown>): Promise<string> {
  return pgErrorCode(rolledBack((fn) => withUser(db.sql, f.users.ownerA, fn), statement));
}

describe('the catalog', () => {
  it('the application roles are not superusers, do not bypass RLS and cannot create roles or databases', async () => {
    const roles = await db.sql<
      {
        rolname: string;
        rolsuper: boolean;
        rolbypassrls: boolean;
        rolcreaterole: boolean;
        rolcreatedb: boolean;
      }[]
    >`
      select rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb from pg_roles
      where rolname in ${db.sql(APP_ROLES)} order by rolname`;
    expect(roles.map((r) => r.rolname)).toEqual([...APP_ROLES].sort());
    for (const r of roles) {
      expect(r, r.rolname).toMatchObject({
        rolsuper: false,
        rolbypassrls: false,
        rolcreaterole: false,
        rolcreatedb: false,
      });
    }
  });

  it('the application roles own no table, view, sequence or schema', async () => {
    const owned = await db.sql<{ name: string }[]>`
      select c.oid::regclass::text as name from pg_class c join pg_roles r on r.oid = c.relowner
      where r.rolname in ${db.sql(APP_ROLES)}
      union all
      select n.nspname from pg_namespace n join pg_roles r on r.oid = n.nspowner
      where r.rolname in ${db.sql(APP_ROLES)}`;
    expect(owned).toEqual([]);
  });

  it('every table of the public and app schemas has row-level security enabled and forced', async () => {
    const tables = await db.sql<{ name: string; enabled: boolean; forced: boolean }[]>`
      select c.oid::regclass::text as name, c.relrowsecurity as enabled, c.relforcerowsecurity as forced
      from pg_class c
      where c.relnamespace in ('public'::regnamespace, 'app'::regnamespace) and c.relkind in ('r', 'p')
      order by 1`;
    // The check must see the domain, or it proves nothing.
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining(['contacts', 'orders', 'integrations', 'webhook_events', 'users', 'sessions']),
    );
    expect(tables.filter((t) => !t.enabled || !t.forced).map((t) => t.name)).toEqual([]);
  });

  it('no view in public lets a role read around the policies', async () => {
    const views = await db.sql<{ name: string }[]>`
      select c.oid::regclass::text as name from pg_class c
      where c.relnamespace = 'public'::regnamespace and c.relkind in ('v', 'm')
        and not coalesce('security_invoker=true' = any (c.reloptions), false)`;
    expect(views).toEqual([]);
  });

  it('the membership helpers are STABLE SECURITY DEFINER functions owned by app_rls, with a fixed search_path', async () => {
    const helpers = await db.sql<
      { name: string; owner: string; secdef: boolean; volatility: string; config: string[] | null }[]
    >`
      select p.proname as name, pg_get_userbyid(p.proowner) as owner, p.prosecdef as secdef,
             p.provolatile as volatility, p.proconfig as config
      from pg_proc p where p.pronamespace = 'public'::regnamespace
        and p.proname in ('is_workspace_member', 'is_workspace_admin', 'is_workspace_owner',
                          'get_workspace_from_integration', 'workspace_role')
      order by 1`;
    expect(helpers.map((h) => h.name)).toEqual([
      'get_workspace_from_integration',
      'is_workspace_admin',
      'is_workspace_member',
      'is_workspace_owner',
      'workspace_role',
    ]);
    for (const h of helpers) {
      expect(h, h.name).toMatchObject({ owner: 'app_rls', secdef: true, volatility: 's' });
      expect(h.config ?? [], h.name).toEqual(
        expect.arrayContaining([expect.stringMatching(/^search_path=/)]),
      );
    }
  });

  it('every SECURITY DEFINER function is owned by a role subject to RLS, or is a reviewed exception', async () => {
    const rows = await db.sql<{ name: string; owner: string; config: string[] | null }[]>`
      select p.oid::regprocedure::text as name, r.rolname as owner, p.proconfig as config
      from pg_proc p join pg_roles r on r.oid = p.proowner
      where p.prosecdef and p.pronamespace in ('public'::regnamespace, 'app'::regnamespace)
        and (r.rolsuper or r.rolbypassrls)
      order by 1`;
    // app.enqueue_reconcile_run (0007) runs as the migrating role because it writes graphile-worker's
    // schema, and only a queued run of a workspace the caller owns. The webhook event queue's claim,
    // renew and release (0022) work across workspaces, which app_worker cannot see: the claim returns
    // ids, workspaces and attempt counts only (never a payload), renew and release touch only rows
    // leased to the worker id given. Anything else is new: review it.
    expect(rows.map((r) => r.name)).toEqual([
      'app.claim_webhook_events(text,integer,double precision)',
      'app.enqueue_reconcile_run(uuid)',
      'app.release_webhook_events(text,uuid[])',
      'app.renew_webhook_event_leases(text,uuid[],double precision)',
    ]);
    for (const r of rows) {
      expect(r.config ?? [], r.name).toEqual(
        expect.arrayContaining([expect.stringMatching(/^search_path=/)]),
      );
    }
  });
});

describe('app_user cannot escape', () => {
  it.each([
    ['disable row level security', 'alter table contacts disable row level security'],
    ['stop forcing row level security', 'alter table contacts no force row level security'],
    ['drop a policy', 'drop policy member_all on contacts'],
    ['create a permissive policy', 'create policy open on contacts using (true)'],
    ['grant itself more', 'grant all on sessions to app_user'],
    ['read pg_authid', 'select rolname, rolpassword from pg_authid'],
    ['read password hashes', 'select password_hash from users'],
    ['read every column of users', 'select * from users'],
    ['read sessions', 'select token_hash from sessions'],
    ['read login attempts', 'select * from login_attempts'],
    ['read the migrations table', 'select * from schema_migrations'],
    ['create a table', 'create table public.mine (id int)'],
    ['create a function in app', 'create function app.mine() returns int language sql as $$ select 1 $$'],
    ['read server files', "select pg_read_file('postgresql.conf')"],
    ['run programs', "copy (select 1) to program 'true'"],
    ['write to webhook_events', "update webhook_events set status = 'processed'"],
  ])('cannot %s (42501)', async (_what, statement) => {
    expect(await asOwnerA((tx) => tx.unsafe(statement))).toBe('42501');
  });

  it('cannot turn row_security off to escape: the query is refused rather than unfiltered', async () => {
    const code = await asOwnerA(async (tx) => {
      await tx`set local row_security = off`;
      return tx`select count(*) from contacts`;
    });
    expect(code).toBe('42501');
  });

  it('sees only the users it shares a workspace with, and never their hashes', async () => {
    const rows = await withUser(db.sql, f.users.ownerA, (tx) => tx<{ id: string }[]>`select id from users`);
    expect(rows.map((r) => r.id).sort()).toEqual(
      [f.users.ownerA, f.users.adminA, f.users.agentA, f.users.spare].sort(),
    );
    const nobody = await asRole(db.sql, 'app_user')((tx) => tx`select id from users`);
    expect(nobody).toEqual([]);
  });

  it('the helpers answer for the current user only, and say nothing with no user', async () => {
    const [mine] = await withUser(
      db.sql,
      f.users.agentA,
      (tx) => tx<
        { memberA: boolean; adminA: boolean; memberB: boolean; wsOfA: string | null; wsOfB: string | null }[]
      >`
        select public.is_workspace_member(${f.a.id}) as "memberA", public.is_workspace_admin(${f.a.id}) as "adminA",
               public.is_workspace_member(${f.b.id}) as "memberB",
               public.get_workspace_from_integration(${f.a.integration}) as "wsOfA",
               public.get_workspace_from_integration(${f.b.integration}) as "wsOfB"`,
    );
    expect(mine).toEqual({ memberA: true, adminA: false, memberB: false, wsOfA: f.a.id, wsOfB: null });
    const [none] = await asRole(db.sql, 'app_user', { 'app.user_id': '' })(
      (tx) => tx<{ m: boolean; o: boolean }[]>`
        select public.is_workspace_member(${f.a.id}) as m, public.is_workspace_owner(${f.a.id}) as o`,
    );
    expect(none).toEqual({ m: false, o: false });
  });

  // The application's pools log in AS app_user / app_worker / app_auth (connectRolePools): the session
  // user itself is unprivileged, a member of no other role, so there is nothing to climb back to.
  // (A pool of the superuser that only `SET LOCAL ROLE app_user` could always `reset role` out.)
  it.each([
    ['set role postgres', 'set role postgres'],
    ['set role app_worker', 'set role app_worker'],
    ['set role app_auth', 'set role app_auth'],
    ['reset role', 'reset role'],
    ['set session authorization', 'set session authorization default'],
    ['set session authorization postgres', 'set session authorization postgres'],
  ])('logged in as app_user, %s leads nowhere', async (_what, statement) => {
    const outcome = await rolledBack(
      (fn) => withUser(pools, f.users.ownerA, fn),
      async (tx) => {
        try {
          await savepoint(tx, (sp) => sp.unsafe(statement));
        } catch (error) {
          return (error as { code?: string }).code === '42501' ? 'refused' : String(error);
        }
        // Allowed (reset to the session user): still app_user, still nothing of workspace B.
        const [row] = await tx<{ who: string; n: number }[]>`
          select current_user as who,
                 (select count(*)::int from integrations where workspace_id = ${f.b.id}) as n`;
        return row?.who === 'app_user' && row.n === 0
          ? 'still app_user'
          : `escaped: ${row?.who} sees ${row?.n}`;
      },
    );
    expect(['refused', 'still app_user']).toContain(outcome);
  });

  it('each pool logs in as its own non-superuser role', async () => {
    const who = async (sql: typeof pools.user) => {
      const [row] = await sql<{ s: string; su: boolean }[]>`
        select session_user as s, (select rolsuper from pg_roles where rolname = session_user) as su`;
      return row;
    };
    expect(await who(pools.user)).toEqual({ s: 'app_user', su: false });
    expect(await who(pools.worker)).toEqual({ s: 'app_worker', su: false });
    expect(await who(pools.auth)).toEqual({ s: 'app_auth', su: false });
  });

  it('a pool of the superuser that only switches role can climb back (why the app never uses one)', async () => {
    const after = await rolledBack(
      (fn) => withUser(db.sql, f.users.ownerA, fn),
      async (tx) => {
        await tx`reset role`;
        const [row] = await tx<
          { su: boolean }[]
        >`select rolsuper as su from pg_roles where rolname = current_user`;
        return row?.su;
      },
    );
    expect(after).toBe(true);
  });

  it('logged in as app_worker, the webhook path cannot become app_user or the superuser', async () => {
    const outcome = await rolledBack(
      (fn) => withWorkspace(pools, f.a.id, fn),
      async (tx) => {
        for (const statement of ['set role postgres', 'set role app_user']) {
          const refused = await savepoint(tx, (sp) => sp.unsafe(statement)).then(
            () => false,
            (error: { code?: string }) => error.code === '42501',
          );
          if (!refused) return `allowed: ${statement}`;
        }
        return 'refused';
      },
    );
    expect(outcome).toBe('refused');
  });
});

describe('the other roles', () => {
  it('app_worker cannot read users, sessions or memberships, nor switch RLS off', async () => {
    for (const statement of [
      'select id from users',
      'select id from sessions',
      'select user_id from workspace_members',
      'alter table orders disable row level security',
    ]) {
      const code = await pgErrorCode(
        rolledBack(
          (fn) => withWorkspace(db.sql, f.a.id, fn),
          (tx) => tx.unsafe(statement),
        ),
      );
      expect(code, statement).toBe('42501');
    }
  });

  it.each(['enqueue_webhook_events', 'enqueue_new_webhook_events'])(
    'only app_worker acting for a workspace may enqueue webhook jobs (app.%s)',
    async (fn) => {
      const enqueue = (tx: Tx) => tx.unsafe(`select app.${fn}(array[gen_random_uuid()])`);
      // app_worker routing (no workspace yet): refused before anything is enqueued.
      expect(await pgErrorCode(rolledBack((fn) => withWorkerRouting(db.sql, fn), enqueue))).toBe('42501');
      // app_user and app_auth may not call it at all.
      expect(await asOwnerA(enqueue)).toBe('42501');
      expect(await pgErrorCode(rolledBack((fn) => withAuth(db.sql, fn), enqueue))).toBe('42501');
      // Nothing to enqueue is nothing, for the workspace acted for.
      const [none] = await withWorkspace(db.sql, f.a.id, (tx) =>
        tx.unsafe<{ n: number }[]>(`select app.${fn}('{}'::uuid[]) as n`),
      );
      expect(none?.n).toBe(0);
    },
  );

  it('only app_worker may claim, renew or release webhook events (the queue, 0022)', async () => {
    for (const statement of [
      `select * from app.claim_webhook_events('x', 1, 30)`,
      `select app.renew_webhook_event_leases('x', '{}'::uuid[], 30)`,
      `select app.release_webhook_events('x', '{}'::uuid[])`,
    ]) {
      const run = (tx: Tx) => tx.unsafe(statement);
      expect(await asOwnerA(run), statement).toBe('42501');
      expect(await pgErrorCode(rolledBack((fn) => withAuth(db.sql, fn), run)), statement).toBe('42501');
      // app_worker may, and a claim gives ids, workspaces and attempts only.
      await rolledBack((fn) => withWorkerRouting(db.sql, fn), run);
    }
  });

  it('app_user and app_auth may not store webhook events', async () => {
    const store = (tx: Tx) => tx`select * from app.store_webhook_events('[]'::json, '{}'::text[])`;
    expect(await asOwnerA(store)).toBe('42501');
    expect(await pgErrorCode(rolledBack((fn) => withAuth(db.sql, fn), store))).toBe('42501');
  });

  it('app_auth reads users and sessions but no CRM data', async () => {
    const users = await withAuth(db.sql, (tx) => tx<{ n: number }[]>`select count(*)::int as n from users`);
    expect(users[0]?.n).toBeGreaterThanOrEqual(6);
    for (const statement of [
      'select id from contacts',
      'select id from integrations',
      'select id from orders',
    ]) {
      const code = await pgErrorCode(
        rolledBack(
          (fn) => withAuth(db.sql, fn),
          (tx) => tx.unsafe(statement),
        ),
      );
      expect(code, statement).toBe('42501');
    }
  });
});
