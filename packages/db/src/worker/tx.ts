import type postgres from 'postgres';
import type { Sql } from '../client.ts';
import type { Db } from '../rls.ts';
import { isRolePools } from '../role-pools.ts';

/** A transaction of the webhook/worker path: a connection reserved from the pool, inside BEGIN … COMMIT. */
export type WorkerTx = postgres.ReservedSql;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const CONNECTION_ERRORS = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_DESTROYED',
  'CONNECTION_ENDED',
  'CONNECT_TIMEOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
]);

/** The connection is gone (or going): the server ended the session, or the socket failed. */
export function isConnectionLost(error: unknown): boolean {
  const e = error as { code?: unknown; severity?: unknown };
  if (typeof e?.code !== 'string') return false;
  return (
    CONNECTION_ERRORS.has(e.code) ||
    e.severity === 'FATAL' ||
    e.severity === 'PANIC' ||
    /^(08|57P0)/.test(e.code)
  );
}

/** The pool the webhook/worker path uses: the app_worker login pool when the app has role pools. */
export function workerPool(db: Db): Sql {
  return isRolePools(db) ? db.worker : db;
}

/** The pool of the queue's owner (graphile-worker's schema belongs to the migrating role). */
export function queueOwnerPool(db: Db): Sql {
  return isRolePools(db) ? db.owner : db;
}

/**
 * Runs fn in one transaction as `app_worker`, acting for `workspaceId` (null: routing only — it may
 * read integrations and write nothing). The same as withWorkspace / withWorkerRouting, but safe when
 * the database goes away in the middle:
 *
 * postgres.js 3.4.9's `sql.begin` sends its ROLLBACK on a connection that has just closed, which
 * throws an uncaught TypeError from a timer (`Cannot read properties of null (reading 'write')`) and
 * takes the process down — the webhook route must answer 503 instead, and workers must carry on. Here
 * nothing more is sent, and the connection is not handed back, once it is lost (the pool reconnects
 * it); BEGIN and the role switch are pipelined, as are COMMIT and the caller's last statement when it
 * returns without awaiting.
 */
export async function inWorkerTransaction<T>(
  db: Db,
  workspaceId: string | null,
  fn: (tx: WorkerTx) => Promise<T>,
): Promise<T> {
  if (workspaceId !== null && !UUID.test(workspaceId)) throw new Error('workspaceId must be a UUID');
  const tx = await workerPool(db).reserve();
  let lost = false;
  try {
    await Promise.all([
      tx`begin`,
      tx`select set_config('role', 'app_worker', true), set_config('app.workspace_id', ${workspaceId ?? ''}, true)`,
    ]);
    const result = await fn(tx);
    await tx`commit`;
    return result;
  } catch (error) {
    lost = isConnectionLost(error);
    if (!lost) {
      await tx`rollback`.catch((e: unknown) => {
        lost = isConnectionLost(e);
      });
    }
    throw error;
  } finally {
    if (!lost) tx.release();
  }
}

/** Switches an open worker transaction to act for a workspace (after routing a webhook, say). */
export async function actForWorkspaceIn(tx: WorkerTx, workspaceId: string): Promise<void> {
  if (!UUID.test(workspaceId)) throw new Error('workspaceId must be a UUID');
  await tx`select set_config('role', 'app_worker', true), set_config('app.workspace_id', ${workspaceId}, true)`;
}
