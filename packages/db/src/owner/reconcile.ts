import type { Queryable } from '../client.ts';

/** The states of a reconcile run (reconcile_runs.status). */
export const RECONCILE_RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;

export type ReconcileRun = {
  id: string;
  integrationId: string;
  since: Date;
  status: (typeof RECONCILE_RUN_STATUSES)[number];
  pages: number;
  ordersSeen: number;
  ordersCreated: number;
  ordersUpdated: number;
  error: string | null;
  requestedBy: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
};

const COLUMNS = `id, integration_id as "integrationId", since, status, pages, orders_seen as "ordersSeen",
  orders_created as "ordersCreated", orders_updated as "ordersUpdated", error, requested_by as "requestedBy",
  created_at as "createdAt", started_at as "startedAt", finished_at as "finishedAt"`;

export async function getReconcileRun(
  tx: Queryable,
  workspaceId: string,
  runId: string,
): Promise<ReconcileRun | null> {
  const [row] = await tx<ReconcileRun[]>`
    select ${tx.unsafe(COLUMNS)} from reconcile_runs where workspace_id = ${workspaceId} and id = ${runId}`;
  return row ?? null;
}

export async function listReconcileRuns(
  tx: Queryable,
  workspaceId: string,
  limit: number,
): Promise<ReconcileRun[]> {
  return tx<ReconcileRun[]>`
    select ${tx.unsafe(COLUMNS)} from reconcile_runs where workspace_id = ${workspaceId}
    order by created_at desc, id desc limit ${limit}`;
}

/** A run still queued or running younger than this is reused instead of starting a second one. */
const ACTIVE_RUN_WINDOW = '6 hours';

/**
 * Records a reconcile run and enqueues its job, in the caller's `withUser` transaction; returns the
 * run id. When a run of the same integration is still queued or running, returns that run's id
 * instead of starting another. Throws when the user is not the owner of the workspace.
 *
 * The check comes before anything else, so a non-owner does not even learn the id of a running run
 * through this path (RLS would refuse their insert too). The job is added through
 * `app.enqueue_reconcile_run` (SECURITY DEFINER, 0007), since `app_user` has no rights on the queue.
 */
export async function recordReconcileRun(
  tx: Queryable,
  input: { workspaceId: string; integrationId: string; since: Date; requestedBy: string },
): Promise<string> {
  const [role] = await tx<{ owner: boolean }[]>`
    select public.is_workspace_owner(${input.workspaceId}) as owner`;
  if (!role?.owner) throw new Error('Only the owner of the workspace can start a reconciliation.');
  // Two owners pressing the button at once get one run.
  await tx`select pg_advisory_xact_lock(hashtext('reconcile:' || ${input.integrationId}))`;
  const [active] = await tx<{ id: string }[]>`
    select id from reconcile_runs
    where workspace_id = ${input.workspaceId} and integration_id = ${input.integrationId}
      and status in ('queued', 'running') and created_at > now() - ${ACTIVE_RUN_WINDOW}::interval
    order by created_at desc limit 1`;
  if (active) return active.id;
  const [run] = await tx<{ id: string }[]>`
    insert into reconcile_runs (workspace_id, integration_id, since, requested_by)
    values (${input.workspaceId}, ${input.integrationId}, ${input.since}, ${input.requestedBy})
    returning id`;
  if (!run) throw new Error('recordReconcileRun: the run was not recorded');
  await tx`select app.enqueue_reconcile_run(${run.id}::uuid)`;
  return run.id;
}
