/**
 * Starting a reconcile run: the run row and its `reconcile_orders` job in one transaction, so a run
 * is never recorded without its job nor a job enqueued for a run that was rolled back.
 */
import { withUser } from '@crm/db';
import type { AppDeps } from '../deps.ts';

/** A run still queued or running younger than this is reused instead of starting a second one. */
const ACTIVE_RUN_WINDOW = '6 hours';

/**
 * Records a reconcile run and enqueues its job; returns the run id. When a run of the same
 * integration is still queued or running, returns that run's id instead of starting another.
 *
 * The caller (a tRPC procedure) has checked the owner role; the insert runs as `app_user` for
 * `requestedBy` anyway, so RLS (owner-only insert) has the last word. The job is added through
 * `app.enqueue_reconcile_run`, since `app_user` has no rights on the queue itself.
 */
export async function startReconcile(
  deps: AppDeps,
  input: { workspaceId: string; integrationId: string; since: Date; requestedBy: string },
): Promise<string> {
  if (Number.isNaN(input.since.getTime())) throw new Error('startReconcile: since is not a valid date');
  return withUser(deps.sql, input.requestedBy, async (tx) => {
    // The caller checked the role; checked again here before anything else, so a non-owner does not
    // even learn the id of a running run through this path. (RLS would refuse their insert too.)
    const [role] = await tx<
      { owner: boolean }[]
    >`select public.is_workspace_owner(${input.workspaceId}) as owner`;
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
    if (!run) throw new Error('startReconcile: the run was not recorded');
    // app_user has no rights on the queue: a narrow SECURITY DEFINER function (0007) enqueues the
    // job, in this same transaction, for a queued run of a workspace the caller owns.
    await tx`select app.enqueue_reconcile_run(${run.id}::uuid)`;
    return run.id;
  });
}
