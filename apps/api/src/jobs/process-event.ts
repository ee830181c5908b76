/**
 * One attempt at a webhook event a worker has claimed from the queue (webhook_events, see
 * event-workers.ts): applies it, by topic, as `app_worker` for its workspace only.
 *
 * An order event is started (its row lock taken, with its integration's settings), applied and
 * finished in ONE transaction, its first reads sent with its start (readAhead); other topics are
 * started, handled and finished in transactions of their own. The claim counted the attempt. A
 * failure that retrying cannot fix (an unreadable payload, a missing pipeline) ends the event
 * `failed` at once; any other failure gives it back to the queue with exponential backoff
 * (e^attempts seconds, at most e^10), and the last of MAX_EVENT_ATTEMPTS ends it `failed`, with its
 * error in words an owner understands.
 */
import {
  type ClaimedIntegration,
  type ClaimedWebhookEvent,
  deactivateIntegration,
  finishWebhookEvent,
  inWorkerTransaction,
  type QueuedWebhookEvent,
  replaceEventPayload,
  startWebhookEventAttempt,
  touchIntegrationLastSync,
  type WorkerTx,
} from '@crm/db/worker';
import { isShopifyTopic, parseWebhookPayload, redactPayloadText, type ShopifyOrder } from '@crm/shopify';
import type { AppDeps } from '../deps.ts';
import { type IntegrationSettings, integrationSettingsOf } from '../integration-config.ts';
import { metrics } from '../metrics.ts';
import {
  type ApplyOrderResult,
  applyInTransaction,
  OrderInsertedMeanwhile,
  type OrderReads,
  readForApply,
} from '../orders/apply-order.ts';
import { ProcessingError } from '../orders/errors.ts';
import { type AttemptHooks, MAX_EVENT_ATTEMPTS, recordFailure } from './attempt-failure.ts';
import { describeRedaction, redactCustomer, redactShop } from './compliance.ts';

export type EventResult = {
  status: 'processed' | 'ignored';
  /** Why an event was ignored, or what was done, for the owner. */
  note?: string | null;
  orderId?: string | null;
  shopifyOrderId?: string | null;
  outcome: string;
  /** The order is redacted: the event's stored payload is redacted too, in the same transaction. */
  redactPayload?: boolean;
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
    redactPayload: result.redacted === true,
  };
}

type ParsedOrderEvent = {
  topic: 'orders/create' | 'orders/updated' | 'orders/paid' | 'orders/cancelled';
  payload: ShopifyOrder;
};

function parseOrderEvent(topic: string, payload: string): ParsedOrderEvent {
  const parsed = parseWebhookPayload(topic, payload);
  if (
    parsed.topic !== 'orders/create' &&
    parsed.topic !== 'orders/updated' &&
    parsed.topic !== 'orders/paid' &&
    parsed.topic !== 'orders/cancelled'
  ) {
    throw new Error(`not an order topic: ${parsed.topic}`);
  }
  return parsed;
}

/**
 * Each integration's settings as the last order event of this process started with them (its
 * `integration` as read by the start, and the settings made of it): the guess an order event's reads
 * are sent ahead with, before its start has answered. applyOrderEvent checks the guess against what
 * the start read.
 */
const settingsSeen = new Map<string, { integration: string; settings: IntegrationSettings }>();
const INTEGRATIONS_REMEMBERED_MAX = 10_000;

function rememberSettings(event: ClaimedEvent, settings: IntegrationSettings): string {
  const integration = JSON.stringify(event.integration);
  if (settingsSeen.size >= INTEGRATIONS_REMEMBERED_MAX) settingsSeen.clear();
  settingsSeen.set(event.integrationId, { integration, settings });
  return integration;
}

/** An order event's first reads, sent before its start has answered, with the settings they assumed. */
type ReadAhead = { integration: string; event: ParsedOrderEvent; reads: OrderReads };

/**
 * Sends an order event's first reads (readForApply) behind its start, in the same round trip, with
 * the payload the claim read and the settings its integration had at this process's last order
 * event. Null when there is nothing to guess with (a first event, an inactive integration, another
 * topic, a payload that does not parse: the attempt then reads after its start, as it must).
 */
function readAhead(tx: WorkerTx, queued: QueuedWebhookEvent): ReadAhead | null {
  const seen = settingsSeen.get(queued.integrationId);
  if (!seen?.settings.isActive || !ORDER_TOPICS.has(queued.topic)) return null;
  let event: ParsedOrderEvent;
  try {
    event = parseOrderEvent(queued.topic, queued.payload);
  } catch {
    return null;
  }
  const reads = readForApply(tx, seen.settings, event.payload, event.topic);
  reads.catch(() => {}); // a failure is thrown where the reads are used; unused, the attempt fails anyway
  return { integration: seen.integration, event, reads };
}

/** An order event applied in the claiming transaction `tx`. Throws on failure (see describeFailure). */
async function applyOrderEvent(
  tx: WorkerTx,
  event: ClaimedEvent & { changedSinceClaim: boolean },
  ahead: ReadAhead | null,
): Promise<EventResult> {
  const integration = settingsOf(event);
  const seen = rememberSettings(event, integration);
  // The reads sent ahead count only if they were made with what the start read, under row-level
  // security: the same payload (the row is the version claimed) and the same integration.
  const guessed = ahead && !event.changedSinceClaim && ahead.integration === seen ? ahead : null;
  const parsed = guessed?.event ?? parseOrderEvent(event.topic, event.payload);
  const order = parsed.payload;
  if (!integration.isActive) {
    return {
      status: 'ignored',
      outcome: 'integration_inactive',
      note: 'The integration was disabled when this event was processed: the order was not applied.',
      shopifyOrderId: order.id,
    };
  }
  return orderEventResult(
    order,
    await applyInTransaction(tx, integration, order, parsed.topic, guessed?.reads),
  );
}

/**
 * When (performance.now()) a transaction of this process that marked each integration synced
 * committed. integrations.last_sync_at is kept to the second (touchIntegrationLastSync changes nothing
 * within a second of the last mark), so for a second after its own mark an event's transaction does
 * not send that statement at all: during a sale, one statement less per order.
 */
const syncMarkedAt = new Map<string, number>();
const SYNC_MARK_EVERY_MS = 1000;

/** Whether an event ending with `result` should mark its integration synced. */
function marksSync(event: ClaimedEvent, result: EventResult): boolean {
  if (result.status !== 'processed') return false;
  const at = syncMarkedAt.get(event.integrationId);
  return at === undefined || performance.now() - at >= SYNC_MARK_EVERY_MS;
}

/** After the commit of a transaction that marked the integration synced. */
function syncMarked(event: ClaimedEvent): void {
  if (syncMarkedAt.size >= INTEGRATIONS_REMEMBERED_MAX) syncMarkedAt.clear();
  syncMarkedAt.set(event.integrationId, performance.now());
}

/**
 * The statements that end an event's transaction, sent with its COMMIT: the event ends with its
 * result and, if `markSync` (marksSync), the integration is marked synced.
 */
function finishStatements(tx: WorkerTx, event: ClaimedEvent, result: EventResult, markSync: boolean) {
  return [
    finishWebhookEvent(tx, event.id, {
      status: result.status,
      error: result.status === 'ignored' ? (result.note ?? null) : null,
      note: result.note ?? null,
      orderId: result.orderId ?? null,
      shopifyOrderId: result.shopifyOrderId ?? null,
    }),
    markSync ? touchIntegrationLastSync(tx, event.integrationId) : null,
  ];
}

/**
 * ONE transaction for an order event: start the attempt (with the integration's settings), apply,
 * finish. Any failure rolls all of it back; the unique (workspace, shopify order id) stays the last
 * word. Other topics come back with `result: null`, started, for handleWebhookEvent. Null: the event
 * is no longer this worker's (done, replayed or taken by another worker meanwhile).
 */
async function claimAndApply(
  deps: AppDeps,
  queued: QueuedWebhookEvent,
  worker: string,
  hooks: AttemptHooks,
): Promise<{ event: ClaimedEvent; result: EventResult | null } | null> {
  for (let attempt = 1; ; attempt++) {
    let markSync = false;
    try {
      const applied = await inWorkerTransaction(
        deps.sql,
        queued.workspaceId,
        async (tx) => {
          const starting = startWebhookEventAttempt(tx, queued, worker);
          const ahead = readAhead(tx, queued); // sent behind the start, before its answer
          const event = await starting;
          if (!event) return null;
          if (!ORDER_TOPICS.has(event.topic)) return { event, result: null };
          hooks.inTransaction?.(event.backendPid);
          const result = await applyOrderEvent(tx, event, ahead);
          if (result.redactPayload) {
            // Shopify may still send a redacted customer's order with her data: not kept here either.
            await replaceEventPayload(tx, event.id, redactPayloadText(event.payload), event.payload);
          }
          return { event, result };
        },
        (tx, applied) => {
          if (!applied?.result) return [];
          markSync = marksSync(applied.event, applied.result);
          return finishStatements(tx, applied.event, applied.result, markSync);
        },
      );
      if (applied && markSync) syncMarked(applied.event);
      return applied;
    } catch (error) {
      // Rolled back; the order is there now: once more, which applies it as an update.
      if (!(error instanceof OrderInsertedMeanwhile) || attempt >= 2) throw error;
    } finally {
      hooks.inTransaction?.(null);
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
      const done = await redactCustomer(deps, integration, parsed.payload);
      return {
        status: 'processed',
        outcome: 'redacted',
        note: describeRedaction(`Customer ${parsed.payload.customer?.id ?? '(no id)'} redacted`, done),
      };
    }
    case 'shop/redact': {
      const done = await redactShop(deps, integration);
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

/**
 * One attempt at an event `worker` claimed. Never throws: a failure is recorded on the event (retry
 * or failed), or, if even that fails, left to the lease's expiry.
 */
export async function processQueuedEvent(
  deps: AppDeps,
  queued: QueuedWebhookEvent,
  worker: string,
  hooks: AttemptHooks = {},
): Promise<void> {
  const started = performance.now();
  const fields = { eventId: queued.id, workspaceId: queued.workspaceId, attempt: queued.attempts };
  if (queued.attempts > MAX_EVENT_ATTEMPTS) {
    // Its last attempts never ended (the worker died each time): no more.
    const error = new ProcessingError(
      'Processing this event was interrupted too many times; replay it to try again.',
    );
    return recordFailure(deps, queued, worker, error, fields, hooks);
  }
  let claimed: Awaited<ReturnType<typeof claimAndApply>>;
  try {
    claimed = await claimAndApply(deps, queued, worker, hooks);
  } catch (error) {
    // The whole attempt was rolled back: keep its error here.
    return recordFailure(deps, queued, worker, error, fields, hooks);
  }
  if (!claimed) return; // processed meanwhile, replayed, or taken by another worker
  const { event } = claimed;
  const eventFields = { ...fields, webhookId: event.webhookId, topic: event.topic };
  const done = (result: EventResult) => {
    metrics.eventFinished(event.topic, result.status, event.receivedAt);
    deps.log.info('webhook event processed', {
      ...eventFields,
      status: result.status,
      outcome: result.outcome,
      orderId: result.orderId ?? null,
      ms: Math.round(performance.now() - started),
    });
  };
  if (claimed.result) return done(claimed.result);

  // Other topics: started (committed) above; handled, then finished, in transactions of their own.
  let result: EventResult;
  try {
    result = isShopifyTopic(event.topic)
      ? await handleWebhookEvent(deps, event)
      : { status: 'ignored', outcome: 'unsupported_topic', note: `Topic ${event.topic} is not used.` };
    const markSync = marksSync(event, result);
    await inWorkerTransaction(
      deps.sql,
      queued.workspaceId,
      async () => {},
      (tx) => finishStatements(tx, event, result, markSync),
    );
    if (markSync) syncMarked(event);
  } catch (error) {
    return recordFailure(deps, queued, worker, error, eventFields, hooks);
  }
  done(result);
}
