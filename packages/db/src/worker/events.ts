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
 * The integrations of many shop domains at once (the webhook route routes concurrent deliveries
 * together), keyed by the lowercased domain; a domain without one is absent. Needs withWorkerRouting.
 */
export async function findIntegrationsByShopDomains(
  tx: Tx,
  shopDomains: readonly string[],
): Promise<Map<string, RoutedIntegration>> {
  const lowered = [...new Set(shopDomains.map((d) => d.toLowerCase()))];
  const rows = await tx<(RoutedIntegration & { shopDomain: string })[]>`
    select lower(config ->> 'shopDomain') as "shopDomain",
           id,
           workspace_id as "workspaceId",
           is_active as "isActive",
           webhook_secret_enc as "webhookSecretEnc",
           case when webhook_secret_previous_expires_at > now() then webhook_secret_previous_enc end
             as "webhookSecretPreviousEnc"
    from integrations
    where type = 'shopify'
      and config ? 'shopDomain'
      and lower(config ->> 'shopDomain') = any(${lowered}::text[])`;
  return new Map(rows.map(({ shopDomain, ...integration }) => [shopDomain, integration]));
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
 * Stores many deliveries of the current workspace and enqueues the jobs of those not stored before,
 * in the caller's transaction and in one statement (one add_jobs, one NOTIFY). Returns the keys
 * (`integrationId` + NUL + `externalId`) of the events this call inserted; a key given twice is
 * inserted once.
 */
export async function insertWebhookEventsAndEnqueue(
  tx: Tx,
  events: readonly NewWebhookEvent[],
): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const records = events.map((e) => ({
    integration_id: e.integrationId,
    external_id: e.externalId,
    event_id: e.eventId,
    topic: e.topic,
    shop_domain: e.shopDomain,
    api_version: e.apiVersion,
    triggered_at: e.triggeredAt?.toISOString() ?? null,
    payload: e.payload,
    headers: e.headers,
  }));
  const rows = await tx<{ integrationId: string; externalId: string }[]>`
    with inserted as (
      insert into webhook_events (workspace_id, integration_id, external_id, event_id, topic, shop_domain,
                                  api_version, triggered_at, payload, headers)
      select app.current_workspace_id(), r.integration_id, r.external_id, r.event_id, r.topic, r.shop_domain,
             r.api_version, r.triggered_at, r.payload, r.headers
      from json_to_recordset(${tx.json(records)}::json) as r(
        integration_id uuid, external_id text, event_id text, topic text, shop_domain text,
        api_version text, triggered_at timestamptz, payload text, headers jsonb)
      on conflict (integration_id, external_id) do nothing
      returning id, integration_id, external_id
    ),
    enqueued as (
      select app.enqueue_webhook_events(array(select id from inserted)) as jobs
    )
    select i.integration_id as "integrationId", i.external_id as "externalId"
    from inserted i, enqueued`;
  return new Set(rows.map((r) => webhookEventKey(r.integrationId, r.externalId)));
}

/** The identity of a delivery: one event per integration and Shopify webhook id. */
export function webhookEventKey(integrationId: string, externalId: string): string {
  return `${integrationId}\u0000${externalId}`;
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
