/**
 * The SQL of the webhook route and of the job that processes a stored event. Every function runs in a
 * transaction opened by the caller as `app_worker` (withWorkerRouting / withWorkspace /
 * actForWorkspace): rows are written for `app.current_workspace_id()`, never for a workspace the
 * caller names, and row-level security refuses anything else.
 */
import type { Queryable } from '../client.ts';
import type { WebhookEventStatus } from '../values.ts';

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
  tx: Queryable,
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

/** A delivery whose HMAC the route has verified, to be stored for its integration's workspace. */
export type VerifiedWebhookEvent = NewWebhookEvent & {
  workspaceId: string;
  /**
   * The stored ciphertext of the signing secret that verified it: the event is stored only while
   * the integration still holds that secret (current, or previous before it expires).
   */
  verifiedWith: string;
  /** Whether the integration must still be active (every topic but the compliance ones). */
  needsActiveIntegration: boolean;
};

/**
 * What became of a verified delivery: stored with its job, stored before (same integration and
 * webhook id), or refused because its integration changed since the route read it (deactivated,
 * moved to another shop domain, or its secret replaced): the route must read it again.
 */
export type StoreOutcome = 'accepted' | 'duplicate' | 'stale';

/**
 * Stores verified deliveries of any number of workspaces with their jobs, in ONE statement and so
 * in one implicit transaction (app.store_webhook_events, migration 0016): run it on its own, not
 * inside BEGIN. Outcomes are keyed by webhookEventKey; a key given twice is stored once and comes
 * back once.
 */
export async function storeWebhookEvents(
  sql: Queryable,
  events: readonly VerifiedWebhookEvent[],
): Promise<Map<string, StoreOutcome>> {
  if (events.length === 0) return new Map();
  const metadata = events.map((e, i) => ({
    workspace_id: e.workspaceId,
    integration_id: e.integrationId,
    external_id: e.externalId,
    event_id: e.eventId,
    topic: e.topic,
    shop_domain: e.shopDomain,
    api_version: e.apiVersion,
    triggered_at: e.triggeredAt?.toISOString() ?? null,
    headers: e.headers,
    secret_enc: e.verifiedWith,
    needs_active: e.needsActiveIntegration,
    payload_index: i + 1,
  }));
  // Each payload is a parameter of its own: sent as it is, never escaped into (and parsed out of)
  // the metadata's JSON. One prepared statement per batch size.
  const payloads = events.map((_, i) => `$${i + 2}`).join(', ');
  const rows = await sql.unsafe<{ integration_id: string; external_id: string; outcome: StoreOutcome }[]>(
    `select integration_id, external_id, outcome
     from app.store_webhook_events($1::text::json, array[${payloads}]::text[])`,
    [JSON.stringify(metadata), ...events.map((e) => e.payload)],
    { prepare: true },
  );
  return new Map(rows.map((r) => [webhookEventKey(r.integration_id, r.external_id), r.outcome]));
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
  tx: Queryable,
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
  /** When the delivery was stored (acked). */
  receivedAt: Date;
  /** X-Shopify-Webhook-Id of the delivery (for logs: one delivery followed from ack to order). */
  webhookId: string;
};

/**
 * Starts one processing attempt of a pending event: counts the attempt (committed on its own, so
 * the count survives a crash) and returns the event. Null when the event is gone, belongs to another
 * workspace, or is no longer pending (processed by an earlier job, say).
 */
export async function claimWebhookEvent(tx: Queryable, eventId: string): Promise<ClaimedWebhookEvent | null> {
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
              attempts,
              received_at as "receivedAt",
              external_id as "webhookId"`;
  return row ?? null;
}

/** The integration an event came for, as it is in the claiming transaction. */
export type ClaimedIntegration = { id: string; workspaceId: string; isActive: boolean; config: unknown };

/**
 * claimWebhookEvent and the event's integration (null when it is gone) in ONE statement, so that a
 * job that applies the event in the same transaction reads settings that cannot be stale: no cache
 * to invalidate, no extra round trip. The claim rolls back with a failed or killed attempt, so the
 * count also takes the job's own (graphile-worker counts an attempt when it takes the job): a retry
 * after a crash still counts the crashed attempt.
 */
export async function claimWebhookEventWithIntegration(
  tx: Queryable,
  eventId: string,
  jobAttempts: number,
): Promise<(ClaimedWebhookEvent & { integration: ClaimedIntegration | null }) | null> {
  const [row] = await tx<(ClaimedWebhookEvent & { integration: ClaimedIntegration | null })[]>`
    update webhook_events e
    set attempts = greatest(e.attempts + 1, ${jobAttempts}::int)
    where e.id = ${eventId} and e.status = 'pending'
    returning e.id,
              e.workspace_id as "workspaceId",
              e.integration_id as "integrationId",
              e.topic,
              e.shop_domain as "shopDomain",
              e.payload,
              e.attempts,
              e.received_at as "receivedAt",
              e.external_id as "webhookId",
              (select json_build_object('id', i.id, 'workspaceId', i.workspace_id, 'isActive', i.is_active,
                                        'config', i.config)
               from integrations i
               where i.id = e.integration_id and i.workspace_id = app.current_workspace_id()) as integration`;
  return row ?? null;
}

/**
 * The end of an attempt whose own transaction was rolled back: counts the attempt (its claim went
 * with the rollback) and keeps its error; the event ends `failed` when `final`, else stays pending
 * for the retry. Nothing when the event is no longer pending (done meanwhile).
 */
export async function recordWebhookEventAttemptFailure(
  tx: Queryable,
  eventId: string,
  failure: { error: string; final: boolean; jobAttempts: number },
): Promise<{ topic: string; receivedAt: Date } | null> {
  const [row] = await tx<{ topic: string; receivedAt: Date }[]>`
    update webhook_events
    set attempts = greatest(attempts + 1, ${failure.jobAttempts}::int),
        last_error = ${failure.error},
        status = case when ${failure.final} then 'failed' else status end,
        processed_at = case when ${failure.final} then now() else processed_at end
    where id = ${eventId} and status = 'pending'
    returning topic, received_at as "receivedAt"`;
  return row ?? null;
}

/** Ends the processing of an event: processed, ignored or failed, with what it touched. */
export async function finishWebhookEvent(
  tx: Queryable,
  eventId: string,
  result: {
    status: Exclude<WebhookEventStatus, 'pending'>;
    error?: string | null;
    /** What processing did, for the owner (see migration 0017). */
    note?: string | null;
    orderId?: string | null;
    shopifyOrderId?: string | null;
  },
): Promise<void> {
  await tx`
    update webhook_events
    set status = ${result.status},
        last_error = ${result.error ?? null},
        note = ${result.note ?? null},
        order_id = coalesce(${result.orderId ?? null}::uuid, order_id),
        shopify_order_id = coalesce(${result.shopifyOrderId ?? null}, shopify_order_id),
        processed_at = now()
    where id = ${eventId}`;
}

/** Keeps the error of a failed attempt that will be retried; the event stays pending. */
export async function recordWebhookEventRetry(tx: Queryable, eventId: string, error: string): Promise<void> {
  await tx`update webhook_events set last_error = ${error} where id = ${eventId} and status = 'pending'`;
}

/** Puts one event back to pending and enqueues it. False when the workspace has no such event. */
export async function requeueWebhookEvent(tx: Queryable, eventId: string): Promise<boolean> {
  const rows = await tx`
    update webhook_events
    set status = 'pending', last_error = null, note = null, processed_at = null
    where id = ${eventId}
    returning id`;
  if (rows.length === 0) return false;
  await tx`select app.enqueue_webhook_event(${eventId})`;
  return true;
}

/** Puts every failed event of the workspace back to pending and enqueues each; returns how many. */
export async function requeueFailedWebhookEvents(tx: Queryable): Promise<number> {
  const rows = await tx<{ id: string }[]>`
    update webhook_events
    set status = 'pending', last_error = null, note = null, processed_at = null
    where workspace_id = app.current_workspace_id() and status = 'failed'
    returning id`;
  if (rows.length === 0) return 0;
  const ids = rows.map((r) => r.id);
  await tx`select app.enqueue_webhook_event(id) from unnest(${ids}::uuid[]) as t(id)`;
  return rows.length;
}
