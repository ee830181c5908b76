/**
 * The `process_webhook_event` job: applies one stored webhook event, by topic. Payload
 * `{ eventId, workspaceId }`. Runs as `app_worker` for that workspace only.
 *
 * An order event is claimed (with its integration's settings), applied and finished in ONE
 * transaction; other topics are claimed, handled and finished in transactions of their own.
 * Each attempt is counted on the event. A failure that retrying cannot fix (an unreadable payload, a
 * missing pipeline) ends the event `failed` at once; any other failure is retried by graphile-worker
 * with exponential backoff, and on the last attempt the event ends `failed`, with its error in words
 * an owner understands.
 */
import {
  type ClaimedIntegration,
  type ClaimedWebhookEvent,
  claimWebhookEventWithIntegration,
  deactivateIntegration,
  finishWebhookEvent,
  inWorkerTransaction,
  recordWebhookEventAttemptFailure,
  recordWebhookEventRetry,
  touchIntegrationLastSync,
  type WorkerTx,
} from '@crm/db/worker';
import { isShopifyTopic, parseWebhookPayload, type ShopifyOrder } from '@crm/shopify';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { type IntegrationSettings, integrationSettingsOf } from '../integration-config.ts';
import { metrics } from '../metrics.ts';
import { type ApplyOrderResult, applyInTransaction, OrderInsertedMeanwhile } from '../orders/apply-order.ts';
import { ProcessingError } from '../orders/errors.ts';
import { describeRedaction, redactCustomer, redactShop } from './compliance.ts';
import { describeFailure } from './errors.ts';

export const PROCESS_WEBHOOK_EVENT = 'process_webhook_event';

const jobPayloadSchema = z.object({ eventId: z.uuid(), workspaceId: z.uuid() });

export type EventResult = {
  status: 'processed' | 'ignored';
  /** Why an event was ignored, or what was done, for the owner. */
  note?: string | null;
  orderId?: string | null;
  shopifyOrderId?: string | null;
  outcome: string;
};

type ClaimedEvent = ClaimedWebhookEvent & { integration: ClaimedIntegration | null };

/** The event's integration settings, as read by its claim (the same transaction). */
function settingsOf(event: ClaimedEvent): IntegrationSettings {
  if (!event.integration)
    throw new ProcessingError('The Shopify integration of this event no longer exists.');
  const settings = integrationSettingsOf(event.integration);
  if (!settings.ok) {
    throw new ProcessingError(
      'The Shopify integration settings are incomplete (shop domain missing): save them again on the integration page.',
    );
  }
  return settings.settings;
}

/** What the owner reads on an order event whose outcome is not plain. */
const ORDER_OUTCOME_NOTES: Partial<Record<string, string>> = {
  skipped: 'Automatic order creation is off: no order was created.',
  stale: 'A newer version of this order was applied already: this older update changed nothing.',
  exists:
    'This order was imported already (by an earlier delivery or by reconciliation): this creation changed nothing.',
};

const ORDER_TOPICS: ReadonlySet<string> = new Set([
  'orders/create',
  'orders/updated',
  'orders/paid',
  'orders/cancelled',
]);

function orderEventResult(order: ShopifyOrder, result: ApplyOrderResult): EventResult {
  return {
    status: 'processed',
    outcome: result.outcome,
    orderId: result.orderId,
    shopifyOrderId: order.id,
    note: ORDER_OUTCOME_NOTES[result.outcome] ?? null,
  };
}

/** An order event applied in the claiming transaction `tx`. Throws on failure (see describeFailure). */
async function applyOrderEvent(tx: WorkerTx, event: ClaimedEvent): Promise<EventResult> {
  const integration = settingsOf(event);
  const parsed = parseWebhookPayload(event.topic, event.payload);
  if (
    parsed.topic !== 'orders/create' &&
    parsed.topic !== 'orders/updated' &&
    parsed.topic !== 'orders/paid' &&
    parsed.topic !== 'orders/cancelled'
  ) {
    throw new Error(`not an order topic: ${parsed.topic}`);
  }
  const order = parsed.payload;
  if (!integration.isActive) {
    return {
      status: 'ignored',
      outcome: 'integration_inactive',
      note: 'The integration was disabled when this event was processed: the order was not applied.',
      shopifyOrderId: order.id,
    };
  }
  return orderEventResult(order, await applyInTransaction(tx, integration, order, parsed.topic));
}

async function finishInTransaction(tx: WorkerTx, event: ClaimedEvent, result: EventResult): Promise<void> {
  await finishWebhookEvent(tx, event.id, {
    status: result.status,
    error: result.status === 'ignored' ? (result.note ?? null) : null,
    note: result.note ?? null,
    orderId: result.orderId ?? null,
    shopifyOrderId: result.shopifyOrderId ?? null,
  });
  if (result.status === 'processed') await touchIntegrationLastSync(tx, event.integrationId);
}

/**
 * ONE transaction for an order event: claim (with the integration's settings), apply, finish. Any
 * failure rolls all of it back; the unique (workspace, shopify order id) stays the last word. Other
 * topics come back with `result: null`, claimed, for handleWebhookEvent. Null: nothing pending.
 */
async function claimAndApply(
  deps: AppDeps,
  workspaceId: string,
  eventId: string,
  jobAttempts: number,
): Promise<{ event: ClaimedEvent; result: EventResult | null } | null> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await inWorkerTransaction(deps.sql, workspaceId, async (tx) => {
        const event = await claimWebhookEventWithIntegration(tx, eventId, jobAttempts);
        if (!event) return null;
        if (!ORDER_TOPICS.has(event.topic)) return { event, result: null };
        const result = await applyOrderEvent(tx, event);
        await finishInTransaction(tx, event, result);
        return { event, result };
      });
    } catch (error) {
      // Rolled back; the order is there now: once more, which applies it as an update.
      if (!(error instanceof OrderInsertedMeanwhile) || attempt >= 2) throw error;
    }
  }
}

/** Applies an event's payload. Throws on failure (see describeFailure). */
export async function handleWebhookEvent(deps: AppDeps, event: ClaimedEvent): Promise<EventResult> {
  const integration = settingsOf(event);
  const parsed = parseWebhookPayload(event.topic, event.payload);
  switch (parsed.topic) {
    case 'orders/create':
    case 'orders/updated':
    case 'orders/paid':
    case 'orders/cancelled':
      throw new Error('order events are applied in their claiming transaction (claimAndApply)');
    case 'app/uninstalled':
      await inWorkerTransaction(deps.sql, event.workspaceId, (tx) =>
        deactivateIntegration(tx, integration.id),
      );
      return {
        status: 'processed',
        outcome: 'deactivated',
        note: 'The app was uninstalled: integration disabled.',
      };
    case 'customers/redact': {
      const done = await redactCustomer(deps, integration, parsed.payload, event.id);
      return {
        status: 'processed',
        outcome: 'redacted',
        note: describeRedaction(`Customer ${parsed.payload.customer?.id ?? '(no id)'} redacted`, done),
      };
    }
    case 'shop/redact': {
      const done = await redactShop(deps, integration, event.id);
      return {
        status: 'processed',
        outcome: 'redacted',
        note: describeRedaction('Shop redacted', done),
      };
    }
    case 'customers/data_request':
      // The event itself is the record of the request; the owner answers it from the CRM.
      return {
        status: 'processed',
        outcome: 'recorded',
        note: 'Data request recorded: send the customer their data from the CRM.',
      };
  }
}

/** The job. `attempts` counts this attempt (graphile-worker increments it when it takes the job). */
export async function processWebhookEventJob(
  deps: AppDeps,
  payload: unknown,
  job: { id?: string; attempts: number; maxAttempts: number },
): Promise<void> {
  const parsed = jobPayloadSchema.safeParse(payload);
  if (!parsed.success) {
    deps.log.error('process_webhook_event: malformed job payload; dropped', {});
    return;
  }
  const { eventId, workspaceId } = parsed.data;
  const started = performance.now();
  const fields = { eventId, workspaceId, jobId: job.id, attempt: job.attempts };

  let claimed: Awaited<ReturnType<typeof claimAndApply>>;
  try {
    claimed = await claimAndApply(deps, workspaceId, eventId, job.attempts);
  } catch (error) {
    // The whole attempt was rolled back, its claim with it: count it and keep its error here.
    const failure = describeFailure(error);
    const last = failure.permanent || job.attempts >= job.maxAttempts;
    const record = inWorkerTransaction(deps.sql, workspaceId, (tx) =>
      recordWebhookEventAttemptFailure(tx, eventId, {
        error: failure.message,
        final: last,
        jobAttempts: job.attempts,
      }),
    );
    if (last) {
      const ended = await record;
      if (ended) metrics.eventFinished(ended.topic, 'failed', ended.receivedAt);
      deps.log.warn('webhook event failed', {
        ...fields,
        error: failure.message,
        permanent: failure.permanent,
        ms: Math.round(performance.now() - started),
      });
      return;
    }
    const retried = await record.catch(() => null);
    if (retried) metrics.eventFinished(retried.topic, 'retried');
    deps.log.warn('webhook event attempt failed; will retry', { ...fields, error: failure.message });
    throw error;
  }
  if (!claimed) return; // processed meanwhile, replayed elsewhere, or not this workspace's
  const { event } = claimed;
  const done = (result: EventResult) => {
    metrics.eventFinished(event.topic, result.status, event.receivedAt);
    deps.log.info('webhook event processed', {
      ...fields,
      webhookId: event.webhookId,
      topic: event.topic,
      status: result.status,
      outcome: result.outcome,
      orderId: result.orderId ?? null,
      ms: Math.round(performance.now() - started),
    });
  };
  if (claimed.result) return done(claimed.result);

  // Other topics: claimed (committed) above; handled, then finished, in transactions of their own.
  let result: EventResult;
  try {
    if (isShopifyTopic(event.topic)) {
      result = await handleWebhookEvent(deps, event);
    } else {
      result = { status: 'ignored', outcome: 'unsupported_topic', note: `Topic ${event.topic} is not used.` };
    }
  } catch (error) {
    const failure = describeFailure(error);
    const last = failure.permanent || job.attempts >= job.maxAttempts;
    if (last) {
      await inWorkerTransaction(deps.sql, workspaceId, (tx) =>
        finishWebhookEvent(tx, eventId, { status: 'failed', error: failure.message }),
      );
      metrics.eventFinished(event.topic, 'failed', event.receivedAt);
      deps.log.warn('webhook event failed', {
        ...fields,
        webhookId: event.webhookId,
        topic: event.topic,
        error: failure.message,
        permanent: failure.permanent,
        ms: Math.round(performance.now() - started),
      });
      return;
    }
    await inWorkerTransaction(deps.sql, workspaceId, (tx) =>
      recordWebhookEventRetry(tx, eventId, failure.message),
    ).catch(() => {});
    metrics.eventFinished(event.topic, 'retried');
    deps.log.warn('webhook event attempt failed; will retry', {
      ...fields,
      webhookId: event.webhookId,
      topic: event.topic,
      error: failure.message,
    });
    throw error;
  }
  await inWorkerTransaction(deps.sql, workspaceId, (tx) => finishInTransaction(tx, event, result));
  done(result);
}
