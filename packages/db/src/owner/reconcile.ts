import type { Queryable } from '../client.ts';

export type ReconcileRun = {
  id: string;
  integrationId: string;
  since: Date;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
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
