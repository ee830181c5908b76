/**
 * The SQL of the webhook route and of the job that processes a stored event. Every function runs in a
 * transaction opened by the caller as `app_worker` (withWorkerRouting / withWorkspace /
 * actForWorkspace): rows are written for `app.current_workspace_id()`, never for a workspace the
 * caller names, and row-level security refuses anything else.
 */
import type { Queryable as Tx } from '../client.ts';

export type WebhookEventStatus = 'pending' | 'processed' | 'failed' | 'ignored';

/** An integration as the webhook route sees it while routing by shop domain: ciphertexts only. */
export type RoutedIntegration = {
  id: string;
  workspaceId: string;
  isActive: boolean;
  webhookSecretEnc: string | null;
  /** The previous secret during a rotation, null once it has expired. */
  webhookSecretPreviousEnc: string | null;
};

/**
 * The integration a shop domain maps to (case-insensitive), for routing a webhook. Needs
 * withWorkerRouting: `app_worker` may read every integration, and only for this.
 */
export async function findIntegrationByShopDomain(
  tx: Tx,
  shopDomain: string,
): Promise<RoutedIntegration | null> {
  const [row] = await tx<RoutedIntegration[]>`
    select id,
           workspace_id as "workspaceId",
           is_active as "isActive",
           webhook_secret_enc as "webhookSecretEnc",
           case when webhook_secret_previous_expires_at > now() then webhook_secret_previous_enc end
             as "webhookSecretPreviousEnc"
    from integrations
    where type = 'shopify'
      and config ? 'shopDomain'
      and lower(config ->> 'shopDomain') = lower(${shopDomain})`;
  return row ?? null;
}

export type NewWebhookEvent = {
  integrationId: string;
  externalId: string;
  eventId: string | null;
  topic: string;
  shopDomain: string;
  apiVersion: string | null;
  triggeredAt: Date | null;
  /** The raw body as received (UTF-8). */
  payload: string;
  /** The Shopify headers that matter (never the HMAC). */
  headers: Record<string, string>;
};

/**
 * Stores a delivery and enqueues its processing job, in the caller's transaction: either both are
 * committed or neither. A delivery already stored (same integration and webhook id) changes nothing
 * and enqueues nothing: `inserted` is false.
 */
export async function insertWebhookEventAndEnqueue(
  tx: Tx,
  event: NewWebhookEvent,
): Promise<{ inserted: boolean; id: string | null }> {
  // One statement, so one round trip: the job is enqueued only for a row this statement inserted.
  const [row] = await tx<{ id: string }[]>`
    with inserted as (
      insert into webhook_events (workspace_id, integration_id, external_id, event_id, topic, shop_domain,
                                  api_version, triggered_at, payload, headers)
      values (app.current_workspace_id(), ${event.integrationId}, ${event.externalId}, ${event.eventId},
              ${event.topic}, ${event.shopDomain}, ${event.apiVersion}, ${event.triggeredAt}, ${event.payload},
              ${tx.json(event.headers)})
      on conflict (integration_id, external_id) do nothing
      returning id
    )
    select id, app.enqueue_webhook_event(id) from inserted`;
  if (!row) return { inserted: false, id: null };
  return { inserted: true, id: row.id };
}

/**
 * Stores a signed delivery that cannot be processed (a body that is not JSON) as `failed` with the
 * reason, so an owner can see it. No job. A repeat of the same webhook id changes nothing.
 */
export async function insertFailedWebhookEvent(
  tx: Tx,
  event: NewWebhookEvent,
  error: string,
): Promise<{ inserted: boolean }> {
  const rows = await tx`
    insert into webhook_events (workspace_id, integration_id, external_id, event_id, topic, shop_domain,
                                api_version, triggered_at, payload, headers, status, last_error, processed_at)
    values (app.current_workspace_id(), ${event.integrationId}, ${event.externalId}, ${event.eventId},
            ${event.topic}, ${event.shopDomain}, ${event.apiVersion}, ${event.triggeredAt}, ${event.payload},
            ${tx.json(event.headers)}, 'failed', ${error}, now())
    on conflict (integration_id, external_id) do nothing
    returning id`;
  return { inserted: rows.length > 0 };
}

export type ClaimedWebhookEvent = {
  id: string;
  workspaceId: string;
  integrationId: string;
  topic: string;
  shopDomain: string;
  payload: string;
  attempts: number;
};

/**
 * Starts one processing attempt of a pending event: counts the attempt (committed on its own, so
 * the count survives a crash) and returns the event. Null when the event is gone, belongs to another
 * workspace, or is no longer pending (processed by an earlier job, say).
 */
export async function claimWebhookEvent(tx: Tx, eventId: string): Promise<ClaimedWebhookEvent | null> {
  const [row] = await tx<ClaimedWebhookEvent[]>`
    update webhook_events
    set attempts = attempts + 1
    where id = ${eventId} and status = 'pending'
    returning id,
              workspace_id as "workspaceId",
              integration_id as "integrationId",
              topic,
              shop_domain as "shopDomain",
              payload,
              attempts`;
  return row ?? null;
}

/** Ends the processing of an event: processed, ignored or failed, with what it touched. */
export async function finishWebhookEvent(
  tx: Tx,
  eventId: string,
  result: {
    status: Exclude<WebhookEventStatus, 'pending'>;
    error?: string | null;
    orderId?: string | null;
    shopifyOrderId?: string | null;
  },
): Promise<void> {
  await tx`
    update webhook_events
    set status = ${result.status},
        last_error = ${result.error ?? null},
        order_id = coalesce(${result.orderId ?? null}::uuid, order_id),
        shopify_order_id = coalesce(${result.shopifyOrderId ?? null}, shopify_order_id),
        processed_at = now()
    where id = ${eventId}`;
}

/** Keeps the error of a failed attempt that will be retried; the event stays pending. */
export async function recordWebhookEventRetry(tx: Tx, eventId: string, error: string): Promise<void> {
  await tx`update webhook_events set last_error = ${error} where id = ${eventId} and status = 'pending'`;
}

/** Puts one event back to pending and enqueues it. False when the workspace has no such event. */
export async function requeueWebhookEvent(tx: Tx, eventId: string): Promise<boolean> {
  const rows = await tx`
    update webhook_events
    set status = 'pending', last_error = null, processed_at = null
    where id = ${eventId}
    returning id`;
  if (rows.length === 0) return false;
  await tx`select app.enqueue_webhook_event(${eventId})`;
  return true;
}

/** Puts every failed event of the workspace back to pending and enqueues each; returns how many. */
export async function requeueFailedWebhookEvents(tx: Tx): Promise<number> {
  const rows = await tx<{ id: string }[]>`
    update webhook_events
    set status = 'pending', last_error = null, processed_at = null
    where workspace_id = app.current_workspace_id() and status = 'failed'
    returning id`;
  if (rows.length === 0) return 0;
  const ids = rows.map((r) => r.id);
  await tx`select app.enqueue_webhook_event(id) from unnest(${ids}::uuid[]) as t(id)`;
  return rows.length;
}
