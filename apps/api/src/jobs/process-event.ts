/**
 * The `process_webhook_event` job: applies one stored webhook event, by topic. Payload
 * `{ eventId, workspaceId }`. Runs as `app_worker` for that workspace only.
 *
 * Each attempt is counted on the event. A failure that retrying cannot fix (an unreadable payload, a
 * missing pipeline) ends the event `failed` at once; any other failure is retried by graphile-worker
 * with exponential backoff, and on the last attempt the event ends `failed`, with its error in words
 * an owner understands.
 */
import {
  type ClaimedWebhookEvent,
  claimWebhookEvent,
  deactivateIntegration,
  finishWebhookEvent,
  inWorkerTransaction,
  loadIntegrationForWorker,
  recordWebhookEventRetry,
  touchIntegrationLastSync,
} from '@crm/db/worker';
import { isShopifyTopic, parseWebhookPayload } from '@crm/shopify';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { type IntegrationSettings, integrationSettingsOf } from '../integration-config.ts';
import { metrics } from '../metrics.ts';
import { applyShopifyOrder } from '../orders/apply-order.ts';
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

async function loadSettings(deps: AppDeps, event: ClaimedWebhookEvent): Promise<IntegrationSettings> {
  const row = await inWorkerTransaction(deps.sql, event.workspaceId, (tx) =>
    loadIntegrationForWorker(tx, event.integrationId),
  );
  if (!row) throw new ProcessingError('The Shopify integration of this event no longer exists.');
  const settings = integrationSettingsOf(row);
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

/** Applies an event's payload. Throws on failure (see describeFailure). */
export async function handleWebhookEvent(deps: AppDeps, event: ClaimedWebhookEvent): Promise<EventResult> {
  const integration = await loadSettings(deps, event);
  const parsed = parseWebhookPayload(event.topic, event.payload);
  switch (parsed.topic) {
    case 'orders/create':
    case 'orders/updated':
    case 'orders/paid':
    case 'orders/cancelled': {
      if (!integration.isActive) {
        return {
          status: 'ignored',
          outcome: 'integration_inactive',
          note: 'The integration was disabled when this event was processed: the order was not applied.',
          shopifyOrderId: parsed.payload.id,
        };
      }
      const result = await applyShopifyOrder(deps, integration, parsed.payload, { topic: parsed.topic });
      return {
        status: 'processed',
        outcome: result.outcome,
        orderId: result.orderId,
        shopifyOrderId: parsed.payload.id,
        note: ORDER_OUTCOME_NOTES[result.outcome] ?? null,
      };
    }
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
  const event = await inWorkerTransaction(deps.sql, workspaceId, (tx) => claimWebhookEvent(tx, eventId));
  if (!event) return; // processed meanwhile, replayed elsewhere, or not this workspace's

  const fields = {
    eventId,
    webhookId: event.webhookId,
    workspaceId,
    jobId: job.id,
    topic: event.topic,
    attempt: job.attempts,
  };
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
    deps.log.warn('webhook event attempt failed; will retry', { ...fields, error: failure.message });
    throw error;
  }

  await inWorkerTransaction(deps.sql, workspaceId, async (tx) => {
    await finishWebhookEvent(tx, eventId, {
      status: result.status,
      error: result.status === 'ignored' ? (result.note ?? null) : null,
      note: result.note ?? null,
      orderId: result.orderId ?? null,
      shopifyOrderId: result.shopifyOrderId ?? null,
    });
    if (result.status === 'processed') await touchIntegrationLastSync(tx, event.integrationId);
  });
  metrics.eventFinished(event.topic, result.status, event.receivedAt);
  deps.log.info('webhook event processed', {
    ...fields,
    status: result.status,
    outcome: result.outcome,
    orderId: result.orderId ?? null,
    ms: Math.round(performance.now() - started),
  });
}
