/**
 * The `reconcile_orders` job: pages through the orders Shopify updated since the run's date (GraphQL
 * Admin API, cursor pages, rate-limit cost honoured) and applies each one through the same path as
 * webhooks (applyShopifyOrder), which creates the orders webhooks missed, updates stale ones, and can
 * never duplicate one (unique shopify_order_id per workspace). Progress (pages, orders seen, created,
 * updated) is committed after every page so the SPA can poll it.
 *
 * Runs as `app_worker` for the run's workspace. A run that fails ends `failed` with an error an owner
 * can act on, and the job itself succeeds (a retry would hit the same wall; the owner starts a new run
 * once the cause is fixed). If the worker dies mid-run, graphile-worker retries the job and the run
 * starts over from the beginning: applying an order twice is harmless.
 */
import { withWorkspace } from '@crm/db';
import {
  finishReconcileRun,
  inWorkerTransaction,
  loadIntegrationAccessTokenEnc,
  loadIntegrationForWorker,
  type ReconcileProgress,
  saveReconcileProgress,
  startReconcileRun,
  touchIntegrationLastSync,
  type WorkerIntegrationRow,
} from '@crm/db/worker';
import { type ShopifyOrder, validateOrder } from '@crm/shopify';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { integrationSettingsOf } from '../integration-config.ts';
import { integrationCredentials } from '../integrations/token-store.ts';
import { metrics } from '../metrics.ts';
import { applyShopifyOrder } from '../orders/apply-order.ts';
import { redactToken } from '../shopify-admin/client.ts';
import type { GraphqlOptions } from '../shopify-admin/graphql.ts';
import { ShopifyAdminError } from '../shopify-admin/http.ts';
import { ordersUpdatedSince } from '../shopify-admin/orders.ts';

export const RECONCILE_TASK = 'reconcile_orders';

export const reconcilePayloadSchema = z.object({
  runId: z.uuid(),
  workspaceId: z.uuid(),
  /** Orders per GraphQL page (tests use small pages); default orders.ts DEFAULT_ORDERS_PAGE_SIZE. */
  pageSize: z.number().int().min(1).max(250).optional(),
  linesPageSize: z.number().int().min(1).max(250).optional(),
});
export type ReconcilePayload = z.infer<typeof reconcilePayloadSchema>;

/** The topic orders are applied under: an update creates the order when it is missing. */
export const RECONCILE_TOPIC = 'orders/updated';

/** How many per-order problems the run's error quotes. */
const MAX_QUOTED_FAILURES = 5;

export type ReconcileJobOptions = Pick<
  GraphqlOptions,
  'sleep' | 'maxWaitMs' | 'maxThrottleRetries' | 'timeoutMs'
>;

type ClaimedRun = {
  since: Date;
  integration: (WorkerIntegrationRow & { accessTokenEnc: string | null }) | null;
};

type Progress = ReconcileProgress;

async function claimRun(deps: AppDeps, workspaceId: string, runId: string): Promise<ClaimedRun | null> {
  return inWorkerTransaction(deps.sql, workspaceId, async (tx) => {
    const run = await startReconcileRun(tx, runId);
    if (!run) return null;
    const integration = await loadIntegrationForWorker(tx, run.integrationId);
    if (!integration) return { since: run.since, integration: null };
    const accessTokenEnc = await loadIntegrationAccessTokenEnc(tx, run.integrationId);
    return { since: run.since, integration: { ...integration, accessTokenEnc } };
  });
}

async function saveProgress(deps: AppDeps, workspaceId: string, runId: string, p: Progress): Promise<void> {
  await inWorkerTransaction(deps.sql, workspaceId, (tx) => saveReconcileProgress(tx, runId, p));
}

async function finishRun(
  deps: AppDeps,
  workspaceId: string,
  runId: string,
  result: { status: 'succeeded' | 'failed'; error: string | null; integrationId: string | null },
  p: Progress,
): Promise<void> {
  await inWorkerTransaction(deps.sql, workspaceId, async (tx) => {
    await finishReconcileRun(tx, runId, result, p);
    if (result.status === 'succeeded' && result.integrationId) {
      await touchIntegrationLastSync(tx, result.integrationId);
    }
  });
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || 'order'}: ${issue.message}` : 'invalid order';
}

/** The job body. Never throws for a reason the owner must fix; throws (→ retry) only when the database does. */
export async function runReconcileJob(
  deps: AppDeps,
  payload: unknown,
  options: ReconcileJobOptions = {},
): Promise<void> {
  const parsed = reconcilePayloadSchema.safeParse(payload);
  if (!parsed.success) {
    deps.log.error('reconcile job with an invalid payload; dropped', { issue: firstIssue(parsed.error) });
    return;
  }
  const { runId, workspaceId } = parsed.data;
  const claimed = await claimRun(deps, workspaceId, runId);
  if (!claimed) {
    deps.log.warn('reconcile run not found or already finished', { runId, workspaceId });
    return;
  }
  const progress: Progress = { pages: 0, seen: 0, created: 0, updated: 0 };
  const fail = (error: string, integrationId: string | null = null) => {
    metrics.reconcileRuns.inc({ outcome: 'failed' });
    return finishRun(deps, workspaceId, runId, { status: 'failed', error, integrationId }, progress);
  };

  const row = claimed.integration;
  if (!row) return fail('The Shopify integration of this run no longer exists.');
  if (!row.isActive) return fail('The Shopify integration is disabled; enable it, then reconcile again.');
  const settings = integrationSettingsOf(row);
  if (!settings.ok) {
    return fail(`The integration settings are incomplete (${settings.issue}); save them again.`);
  }
  const integration = settings.settings;
  // The integration's tokens renew themselves (before expiry, and once on a 401), single-flight
  // with every other worker; a legacy integration's static token is used as it is.
  const creds = integrationCredentials(deps, (fn) => withWorkspace(deps.sql, workspaceId, fn), {
    id: row.id,
    shopDomain: integration.shopDomain,
  });
  const accessToken = '';
  const failures: string[] = [];

  metrics.reconcileRuns.inc({ outcome: 'started' });
  deps.log.info('reconcile started', {
    runId,
    workspaceId,
    shop: creds.shopDomain,
    since: claimed.since.toISOString(),
  });
  try {
    const pages = ordersUpdatedSince(deps.config, creds, claimed.since, {
      ...options,
      ...(parsed.data.pageSize ? { pageSize: parsed.data.pageSize } : {}),
      ...(parsed.data.linesPageSize ? { linesPageSize: parsed.data.linesPageSize } : {}),
      onThrottle: ({ waitMs }) =>
        deps.log.info('reconcile waiting for Shopify rate limit', { runId, waitMs }),
    });
    for await (const page of pages) {
      progress.pages++;
      metrics.reconcilePages.inc();
      for (const json of page.orders) {
        progress.seen++;
        try {
          // Throws ShopifyPayloadError naming the fields when the order lacks what the CRM needs.
          const order: ShopifyOrder = validateOrder(json);
          const { outcome } = await applyShopifyOrder(deps, integration, order, { topic: RECONCILE_TOPIC });
          if (outcome === 'created') progress.created++;
          else if (outcome === 'updated') progress.updated++;
        } catch (error) {
          failures.push(`${json.name}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      await saveProgress(deps, workspaceId, runId, progress);
    }
  } catch (error) {
    if (!(error instanceof ShopifyAdminError)) {
      deps.log.error('reconcile stopped by an unexpected error', {
        runId,
        error: redactToken(error instanceof Error ? error.message : String(error), accessToken),
      });
    }
    const why =
      error instanceof ShopifyAdminError
        ? error.message
        : `Reconciliation stopped unexpectedly: ${error instanceof Error ? error.message : String(error)}`;
    const after = progress.seen > 0 ? ` (after ${progress.seen} orders on ${progress.pages} pages)` : '';
    return fail(redactToken(`${why}${after}`, accessToken), row.id);
  }

  if (failures.length > 0) {
    // Each reason is a sentence of its own; joined into one, their full stops would double up.
    const quoted = failures
      .slice(0, MAX_QUOTED_FAILURES)
      .map((f) => f.replace(/\.+$/, ''))
      .join('; ');
    const more =
      failures.length > MAX_QUOTED_FAILURES ? `; and ${failures.length - MAX_QUOTED_FAILURES} more` : '';
    return fail(
      redactToken(
        `${failures.length} of ${progress.seen} orders could not be imported: ${quoted}${more}. The others were imported.`,
        accessToken,
      ),
      row.id,
    );
  }
  await finishRun(
    deps,
    workspaceId,
    runId,
    { status: 'succeeded', error: null, integrationId: row.id },
    progress,
  );
  metrics.reconcileRuns.inc({ outcome: 'finished' });
  deps.log.info('reconcile finished', {
    runId,
    pages: progress.pages,
    seen: progress.seen,
    created: progress.created,
  });
}
