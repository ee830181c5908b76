import type { Queryable } from '../client.ts';

/** A reconciliation run's counters, committed after every page so the SPA can poll them. */
export type ReconcileProgress = { pages: number; seen: number; created: number; updated: number };

/**
 * queued → running, counters reset; a run found `running` is a retry after a crashed worker: it
 * starts over. Null when the run is not this workspace's or has finished.
 */
export async function startReconcileRun(
  tx: Queryable,
  runId: string,
): Promise<{ integrationId: string; since: Date } | null> {
  const [run] = await tx<{ integrationId: string; since: Date }[]>`
    update reconcile_runs
    set status = 'running', started_at = now(), finished_at = null, error = null,
        pages = 0, orders_seen = 0, orders_created = 0, orders_updated = 0
    where id = ${runId} and workspace_id = app.current_workspace_id() and status in ('queued', 'running')
    returning integration_id as "integrationId", since`;
  return run ?? null;
}

export async function saveReconcileProgress(
  tx: Queryable,
  runId: string,
  p: ReconcileProgress,
): Promise<void> {
  await tx`
    update reconcile_runs
    set pages = ${p.pages}, orders_seen = ${p.seen}, orders_created = ${p.created}, orders_updated = ${p.updated}
    where id = ${runId} and workspace_id = app.current_workspace_id()`;
}

export async function finishReconcileRun(
  tx: Queryable,
  runId: string,
  result: { status: 'succeeded' | 'failed'; error: string | null },
  p: ReconcileProgress,
): Promise<void> {
  await tx`
    update reconcile_runs
    set status = ${result.status}, error = ${result.error}, finished_at = now(),
        pages = ${p.pages}, orders_seen = ${p.seen}, orders_created = ${p.created}, orders_updated = ${p.updated}
    where id = ${runId} and workspace_id = app.current_workspace_id()`;
}
