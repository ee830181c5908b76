/**
 * Starting a reconcile run: the run row and its `reconcile_orders` job in one transaction, so a run
 * is never recorded without its job nor a job enqueued for a run that was rolled back.
 */
import { withUser } from '@crm/db';
import { recordReconcileRun } from '@crm/db/owner';
import type { AppDeps } from '../deps.ts';

/**
 * Records a reconcile run and enqueues its job; returns the run id. When a run of the same
 * integration is still queued or running, returns that run's id instead of starting another.
 *
 * The caller (a tRPC procedure) has checked the owner role; the transaction runs as `app_user` for
 * `requestedBy` anyway, checks the role again, and RLS (owner-only insert) has the last word.
 */
export async function startReconcile(
  deps: AppDeps,
  input: { workspaceId: string; integrationId: string; since: Date; requestedBy: string },
): Promise<string> {
  if (Number.isNaN(input.since.getTime())) throw new Error('startReconcile: since is not a valid date');
  return withUser(deps.sql, input.requestedBy, (tx) => recordReconcileRun(tx, input));
}
