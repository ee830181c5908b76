import type { Sql, Tx } from '../client.ts';
import {
  actForWorkspace,
  type Db,
  isConnectionLost,
  type LastStatements,
  onIngestConnection,
  withWorkerPipeline,
  withWorkerRouting,
  withWorkspace,
} from '../rls.ts';
import { isRolePools } from '../role-pools.ts';

/** A transaction of the webhook/worker path. */
export type WorkerTx = Tx;

export { isConnectionLost, onIngestConnection };

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
 * read integrations and write nothing). Safe when the database goes away mid-transaction (rls.ts).
 * `last`: statements sent with its COMMIT (LastStatements in rls.ts).
 */
export function inWorkerTransaction<T>(
  db: Db,
  workspaceId: string | null,
  fn: (tx: WorkerTx) => Promise<T>,
  last?: LastStatements<T>,
): Promise<T> {
  if (workspaceId !== null) return withWorkspace(db, workspaceId, fn, last);
  if (last) throw new Error('inWorkerTransaction: final statements need a workspace');
  return withWorkerRouting(db, fn);
}

/**
 * One worker transaction in one round trip, starting with no workspace (routing only): `fn` must
 * send every statement before it returns — a routing read; or, per workspace, actForWorkspaceIn and
 * its writes. See inPipelinedTransaction in rls.ts.
 */
export const inWorkerPipeline = withWorkerPipeline;

/** Switches an open worker transaction to act for a workspace (after routing a webhook, say). */
export const actForWorkspaceIn = actForWorkspace;
