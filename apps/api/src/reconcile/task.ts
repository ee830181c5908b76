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
import { type IntegrationSettings, integrationSettingsOf } from '../integration-config.ts';
import { integrationCredentials } from '../integrations/token-store.ts';
import { metrics } from '../metrics.ts';
import { applyShopifyOrder } from '../orders/apply-order.ts';
import type { GraphqlOptions } from '../shopify-admin/graphql.ts';
import { type ShopCredentials, ShopifyAdminError } from '../shopify-admin/http.ts';
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

type ClaimedRun = { since: Date; integration: WorkerIntegrationRow | null };

type Progress = ReconcileProgress;

type RunResult = { status: 'succeeded' | 'failed'; error: string | null; integrationId: string | null };

async function claimRun(deps: AppDeps, workspaceId: string, runId: string): Promise<ClaimedRun | null> {
  return inWorkerTransaction(deps.sql, workspaceId, async (tx) => {
    const run = await startReconcileRun(tx, runId);
    if (!run) return null;
    return { since: run.since, integration: await loadIntegrationForWorker(tx, run.integrationId) };
  });
}

async function saveProgress(deps: AppDeps, workspaceId: string, runId: string, p: Progress): Promise<void> {
  await inWorkerTransaction(deps.sql, workspaceId, (tx) => saveReconcileProgress(tx, runId, p));
}

async function finishRun(
  deps: AppDeps,
  workspaceId: string,
  runId: string,
  result: RunResult,
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

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The integration and its settings, or the sentence the run fails with. */
function usableIntegration(
  row: WorkerIntegrationRow | null,
): { row: WorkerIntegrationRow; settings: IntegrationSettings } | string {
  if (!row) return 'The Shopify integration of this run no longer exists.';
  if (!row.isActive) return 'The Shopify integration is disabled; enable it, then reconcile again.';
  const settings = integrationSettingsOf(row);
  if (!settings.ok) return `The integration settings are incomplete (${settings.issue}); save them again.`;
  return { row, settings: settings.settings };
}

/** One run's context: who, where, what it has done so far, and the orders it could not apply. */
type Run = {
  deps: AppDeps;
  payload: ReconcilePayload;
  since: Date;
  integration: IntegrationSettings;
  progress: Progress;
  failures: string[];
};

/** Applies one page's orders, counting what each did; a bad order is noted and the others go on. */
async function applyPage(run: Run, orders: readonly { name: string }[]): Promise<void> {
  for (const json of orders) {
    run.progress.seen++;
    try {
      // Throws ShopifyPayloadError naming the fields when the order lacks what the CRM needs.
      const order: ShopifyOrder = validateOrder(json);
      const { outcome } = await applyShopifyOrder(run.deps, run.integration, order, {
        topic: RECONCILE_TOPIC,
      });
      if (outcome === 'created') run.progress.created++;
      else if (outcome === 'updated') run.progress.updated++;
    } catch (error) {
      run.failures.push(`${json.name}: ${messageOf(error)}`);
    }
  }
}

/**
 * Pages through the orders and applies them, saving progress after each page; returns the sentence
 * the run fails with when Shopify (or anything unexpected) stops it, null when every page was read.
 */
async function importOrders(
  run: Run,
  creds: ShopCredentials,
  options: ReconcileJobOptions,
): Promise<string | null> {
  const { deps, payload, progress } = run;
  try {
    const pages = ordersUpdatedSince(deps.config, creds, run.since, {
      ...options,
      ...(payload.pageSize ? { pageSize: payload.pageSize } : {}),
      ...(payload.linesPageSize ? { linesPageSize: payload.linesPageSize } : {}),
      onThrottle: ({ waitMs }) =>
        deps.log.info('reconcile waiting for Shopify rate limit', { runId: payload.runId, waitMs }),
    });
    for await (const page of pages) {
      progress.pages++;
      metrics.reconcilePages.inc();
      await applyPage(run, page.orders);
      await saveProgress(deps, payload.workspaceId, payload.runId, progress);
    }
    return null;
  } catch (error) {
    // The Admin API client redacts tokens from its own errors.
    if (!(error instanceof ShopifyAdminError)) {
      deps.log.error('reconcile stopped by an unexpected error', {
        runId: payload.runId,
        error: messageOf(error),
      });
    }
    const why =
      error instanceof ShopifyAdminError
        ? error.message
        : `Reconciliation stopped unexpectedly: ${messageOf(error)}`;
    const after = progress.seen > 0 ? ` (after ${progress.seen} orders on ${progress.pages} pages)` : '';
    return `${why}${after}`;
  }
}

/** The run's error when some orders could not be applied, or null when all were. */
function failuresSentence(failures: readonly string[], seen: number): string | null {
  if (failures.length === 0) return null;
  // Each reason is a sentence of its own; joined into one, their full stops would double up.
  const quoted = failures
    .slice(0, MAX_QUOTED_FAILURES)
    .map((f) => f.replace(/\.+$/, ''))
    .join('; ');
  const more =
    failures.length > MAX_QUOTED_FAILURES ? `; and ${failures.length - MAX_QUOTED_FAILURES} more` : '';
  return `${failures.length} of ${seen} orders could not be imported: ${quoted}${more}. The others were imported.`;
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
  const finish = (result: RunResult) => finishRun(deps, workspaceId, runId, result, progress);
  const fail = (error: string, integrationId: string | null = null) => {
    metrics.reconcileRuns.inc({ outcome: 'failed' });
    return finish({ status: 'failed', error, integrationId });
  };

  const usable = usableIntegration(claimed.integration);
  if (typeof usable === 'string') return fail(usable);
  const { row, settings: integration } = usable;
  // The integration's tokens renew themselves (before expiry, and once on a 401), single-flight
  // with every other worker; a legacy integration's static token is used as it is.
  const creds = integrationCredentials(deps, (fn) => withWorkspace(deps.sql, workspaceId, fn), {
    id: row.id,
    shopDomain: integration.shopDomain,
  });
  metrics.reconcileRuns.inc({ outcome: 'started' });
  deps.log.info('reconcile started', {
    runId,
    workspaceId,
    shop: creds.shopDomain,
    since: claimed.since.toISOString(),
  });
  const run: Run = { deps, payload: parsed.data, since: claimed.since, integration, progress, failures: [] };
  const stopped = await importOrders(run, creds, options);
  const error = stopped ?? failuresSentence(run.failures, progress.seen);
  if (error !== null) return fail(error, row.id);
  await finish({ status: 'succeeded', error: null, integrationId: row.id });
  metrics.reconcileRuns.inc({ outcome: 'finished' });
  deps.log.info('reconcile finished', {
    runId,
    pages: progress.pages,
    seen: progress.seen,
    created: progress.created,
  });
}
