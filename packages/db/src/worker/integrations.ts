import type { Queryable } from '../client.ts';
import { UNINSTALLED_REASON } from '../integration-tokens.ts';

export type WorkerIntegrationRow = {
  id: string;
  workspaceId: string;
  isActive: boolean;
  /** The raw `integrations.config` jsonb; the API parses it with its schema. */
  config: unknown;
};

/** An integration of the current workspace, for a job. */
export async function loadIntegrationForWorker(
  tx: Queryable,
  integrationId: string,
): Promise<WorkerIntegrationRow | null> {
  const [row] = await tx<WorkerIntegrationRow[]>`
    select id, workspace_id as "workspaceId", is_active as "isActive", config
    from integrations
    where id = ${integrationId} and workspace_id = app.current_workspace_id()`;
  return row ?? null;
}

/** The shopify integration of the current workspace, if any. */
export async function loadWorkspaceShopifyIntegration(tx: Queryable): Promise<WorkerIntegrationRow | null> {
  const [row] = await tx<WorkerIntegrationRow[]>`
    select id, workspace_id as "workspaceId", is_active as "isActive", config
    from integrations
    where workspace_id = app.current_workspace_id() and type = 'shopify'`;
  return row ?? null;
}

/**
 * Records that the integration has just synced something. To the second: an order's transaction that
 * finds it set within the last second changes nothing, so concurrent orders of one shop do not queue
 * on the integration's row lock until their commits. The statement (unsent until awaited or executed).
 */
export function touchIntegrationLastSync(tx: Queryable, integrationId: string) {
  return tx`
    update integrations set last_sync_at = now()
    where id = ${integrationId} and workspace_id = app.current_workspace_id()
      and (last_sync_at is null or last_sync_at < now() - interval '1 second')`;
}

/**
 * app/uninstalled: the shop removed the app; stop taking its orders, and tell the owner at once that
 * the store must be reconnected (its tokens are revoked) — reconnecting re-activates it.
 */
export async function deactivateIntegration(tx: Queryable, integrationId: string): Promise<boolean> {
  const rows = await tx`
    update integrations set is_active = false, updated_at = now(),
      needs_reconnection_at = coalesce(needs_reconnection_at, now()),
      needs_reconnection_reason = ${UNINSTALLED_REASON}
    where id = ${integrationId} and workspace_id = app.current_workspace_id()
    returning id`;
  return rows.length > 0;
}
