import type { Sql, Tx } from './client.ts';
import { isRolePools, type RolePools } from './role-pools.ts';

/**
 * Where a transaction runs: the application's role pools (each logged in as its role — production),
 * or a single pool of the migrating role (tests arranging data, tools), which switches role per
 * transaction.
 */
export type Db = Sql | RolePools;

function poolFor(db: Db, role: 'user' | 'worker' | 'auth'): Sql {
  return isRolePools(db) ? db[role] : db;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function assertUuid(value: string, what: string): void {
  if (!UUID.test(value)) throw new Error(`${what} must be a UUID`);
}

/**
 * Runs fn in one transaction as `app_user` for the given user: every row it touches passes the
 * row-level security policies for that user. The setting is transaction-local, so it cannot leak to
 * the next request that borrows the connection.
 */
export async function withUser<T>(db: Db, userId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  assertUuid(userId, 'userId');
  return (await poolFor(db, 'user').begin(async (tx) => {
    await tx`select set_config('role', 'app_user', true), set_config('app.user_id', ${userId}, true)`;
    return fn(tx);
  })) as T;
}

/**
 * Runs fn in one transaction as `app_worker` acting for one workspace: the webhook route and the
 * job workers, which act for no user. Writes outside that workspace are refused by RLS.
 */
export async function withWorkspace<T>(db: Db, workspaceId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  assertUuid(workspaceId, 'workspaceId');
  return (await poolFor(db, 'worker').begin(async (tx) => {
    await tx`select set_config('role', 'app_worker', true), set_config('app.workspace_id', ${workspaceId}, true)`;
    return fn(tx);
  })) as T;
}

/** Switches an open transaction to `app_worker` for a workspace (after routing a webhook, say). */
export async function actForWorkspace(tx: Tx, workspaceId: string): Promise<void> {
  assertUuid(workspaceId, 'workspaceId');
  await tx`select set_config('role', 'app_worker', true), set_config('app.workspace_id', ${workspaceId}, true)`;
}

/** Runs fn in one transaction as `app_worker` with no workspace yet: it may only route (read integrations). */
export async function withWorkerRouting<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return (await poolFor(db, 'worker').begin(async (tx) => {
    await tx`select set_config('role', 'app_worker', true), set_config('app.workspace_id', '', true)`;
    return fn(tx);
  })) as T;
}

/** Runs fn in one transaction as `app_auth`: login, sessions, throttling — before a user is known. */
export async function withAuth<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return (await poolFor(db, 'auth').begin(async (tx) => {
    await tx`select set_config('role', 'app_auth', true)`;
    return fn(tx);
  })) as T;
}
