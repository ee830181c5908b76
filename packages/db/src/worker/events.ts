/**
 * The SQL of the webhook route and of the job that processes a stored event. Every function runs in a
 * transaction opened by the caller as `app_worker` (withWorkerRouting / withWorkspace /
 * actForWorkspace): rows are written for `app.current_workspace_id()`, never for a workspace the
 * caller names, and row-level security refuses anything else.
 */
import type { Queryable, Sql } from '../client.ts';
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
  /** Attempts so far, this one included (the claim counts it). */
  attempts: number;
  /** When the delivery was stored (acked). */
  receivedAt: Date;
  /** X-Shopify-Webhook-Id of the delivery (for logs: one delivery followed from ack to order). */
  webhookId: string;
};

/** The integration an event came for, as it is in the claiming transaction. */
export type ClaimedIntegration = { id: string; workspaceId: string; isActive: boolean; config: unknown };

/** An event as an attempt at it starts: with its integration and the session running the attempt. */
export type StartedWebhookEvent = ClaimedWebhookEvent & {
  integration: ClaimedIntegration | null;
  /** pg_backend_pid() of the attempt's transaction. */
  backendPid: number;
};

/**
 * An event a worker has claimed (leased) from the queue: what it needs to process it. Its topic and
 * payload are as the claim read them; startWebhookEventAttempt, under row-level security, says
 * whether they are still the event's.
 */
export type QueuedWebhookEvent = {
  id: string;
  workspaceId: string;
  attempts: number;
  integrationId: string;
  topic: string;
  payload: string;
  /** The version of the event's row the claim wrote (its xmin). */
  version: string;
};

/** The channel the route notifies (after its commit) when it stored events, and workers listen on. */
export const WEBHOOK_EVENTS_CHANNEL = 'crm_webhook_events';

/**
 * Claims up to `limit` due events of any workspace for `worker` (app.claim_webhook_events, migration
 * 0022): counts an attempt on each and leases it for `leaseSeconds` (renew with
 * renewWebhookEventLeases), oldest due first; events other workers hold are skipped. One statement,
 * committed on its own: run it outside any transaction.
 */
export async function claimWebhookEvents(
  sql: Queryable,
  worker: string,
  limit: number,
  leaseSeconds: number,
): Promise<QueuedWebhookEvent[]> {
  return sql<QueuedWebhookEvent[]>`
    select id, workspace_id as "workspaceId", attempts, integration_id as "integrationId", topic, payload,
           version
    from app.claim_webhook_events(${worker}, ${limit}::int, ${leaseSeconds}::float8)`;
}

/** Extends the leases `worker` holds on these events; returns how many it still held. */
export async function renewWebhookEventLeases(
  sql: Queryable,
  worker: string,
  ids: readonly string[],
  leaseSeconds: number,
): Promise<number> {
  if (ids.length === 0) return 0;
  const [row] = await sql<{ n: number }[]>`
    select app.renew_webhook_event_leases(${worker}, ${[...ids]}::uuid[], ${leaseSeconds}::float8) as n`;
  return row?.n ?? 0;
}

/**
 * Gives these events back to the queue, due now, if `worker` still holds them and no transaction is
 * writing them (a drain); returns how many were released.
 */
export async function releaseWebhookEvents(
  sql: Queryable,
  worker: string,
  ids: readonly string[],
): Promise<number> {
  if (ids.length === 0) return 0;
  const [row] = await sql<{ n: number }[]>`
    select app.release_webhook_events(${worker}, ${[...ids]}::uuid[]) as n`;
  return row?.n ?? 0;
}

/** Wakes the workers listening on WEBHOOK_EVENTS_CHANNEL (send it after, never inside, an ack's commit). */
export async function notifyWebhookEvents(sql: Queryable): Promise<void> {
  await sql`select pg_notify(${WEBHOOK_EVENTS_CHANNEL}, '')`;
}

/**
 * Starts one attempt of an event `worker` has claimed, in the caller's transaction (acting for its
 * workspace): takes the event's row lock and returns it with its integration (null when that is
 * gone), read in the same statement, so a job that applies the event in this transaction reads
 * settings that cannot be stale. Null when the event is no longer pending or no longer `worker`'s
 * (its lease expired and another worker took it, or it was released).
 *
 * The payload is sent back only when the row is no longer the version the claim read (`claimed`);
 * `changedSinceClaim` says so. The statement is sent when this is called (not when awaited): what the
 * caller sends next runs after it, in the same round trip.
 */
export async function startWebhookEventAttempt(
  tx: Queryable,
  claimed: Pick<QueuedWebhookEvent, 'id' | 'payload' | 'version'>,
  worker: string,
): Promise<(StartedWebhookEvent & { changedSinceClaim: boolean }) | null> {
  // The lock an UPDATE takes, without the UPDATE that changed nothing it was taken by before: that
  // wrote a new version of the row (its payload again, in the WAL) and, on a full page, a new entry
  // in each of the table's indexes (46 buffers per start then, 36 now: pg_stat_statements, BENCHMARKS
  // session 16); the finish writes the one version the attempt needs.
  const [row] = await tx<(Omit<StartedWebhookEvent, 'payload'> & { payload: string | null })[]>`
    select e.id,
           e.workspace_id as "workspaceId",
           e.integration_id as "integrationId",
           e.topic,
           e.shop_domain as "shopDomain",
           case when e.xmin::text = ${claimed.version} then null else e.payload end as payload,
           e.attempts,
           e.received_at as "receivedAt",
           e.external_id as "webhookId",
           (select json_build_object('id', i.id, 'workspaceId', i.workspace_id, 'isActive', i.is_active,
                                     'config', i.config)
            from integrations i
            where i.id = e.integration_id and i.workspace_id = app.current_workspace_id()) as integration,
           pg_backend_pid() as "backendPid"
    from webhook_events e
    where e.id = ${claimed.id} and e.status = 'pending' and e.locked_by = ${worker}
    for no key update of e`.execute();
  if (!row) return null;
  const changedSinceClaim = row.payload !== null;
  return { ...row, payload: row.payload ?? claimed.payload, changedSinceClaim };
}

/**
 * Ends the sessions of these backends of the worker pool: a drain's last resort for attempts still
 * running at its deadline (their transactions roll back and free the events' rows for a release).
 */
export async function terminateWorkerBackends(sql: Queryable, pids: readonly number[]): Promise<void> {
  if (pids.length === 0) return;
  await sql`select pg_terminate_backend(pid) from unnest(${[...pids]}::int[]) as t(pid)`;
}

/**
 * LISTENs on WEBHOOK_EVENTS_CHANNEL on a connection of its own (postgres.js listens again after a
 * reconnect); `onNotify` runs for every notification. Resolves once listening.
 */
export async function listenForWebhookEvents(
  sql: Sql,
  onNotify: () => void,
): Promise<{ unlisten: () => Promise<void> }> {
  const { unlisten } = await sql.listen(WEBHOOK_EVENTS_CHANNEL, onNotify);
  return { unlisten };
}

/**
 * The end of a failed attempt (whose own transaction was rolled back): keeps its error and gives the
 * event back to the queue, due again in `retryInSeconds` — or ends it `failed` when `final`.
 * Nothing when `worker` no longer holds it (done or taken meanwhile).
 */
export async function recordWebhookEventAttemptFailure(
  tx: Queryable,
  eventId: string,
  failure: {
    error: string;
    final: boolean;
    worker: string;
    /** The attempt that failed (the event's `attempts` its claim set): a late record ends only its own lease. */
    attempt: number;
    retryInSeconds: number;
  },
): Promise<{ topic: string; receivedAt: Date } | null> {
  const [row] = await tx<{ topic: string; receivedAt: Date }[]>`
    update webhook_events
    set last_error = ${failure.error},
        locked_by = null,
        run_at = now() + make_interval(secs => ${failure.retryInSeconds}::float8),
        status = case when ${failure.final} then 'failed' else status end,
        processed_at = case when ${failure.final} then now() else processed_at end
    where id = ${eventId} and status = 'pending' and locked_by = ${failure.worker}
      and attempts = ${failure.attempt}
    returning topic, received_at as "receivedAt"`;
  return row ?? null;
}

/**
 * Ends the processing of an event: processed, ignored or failed, with what it touched. The statement
 * (unsent until awaited or executed: a transaction's last statement, see LastStatements).
 */
export function finishWebhookEvent(
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
) {
  return tx`
    update webhook_events
    set status = ${result.status},
        last_error = ${result.error ?? null},
        note = ${result.note ?? null},
        order_id = coalesce(${result.orderId ?? null}::uuid, order_id),
        shopify_order_id = coalesce(${result.shopifyOrderId ?? null}, shopify_order_id),
        locked_by = null,
        processed_at = now()
    where id = ${eventId}`;
}

/** The columns a replay resets: pending, due now, no lease, a fresh count of attempts. */
const REQUEUED = `status = 'pending', last_error = null, note = null, processed_at = null,
  attempts = 0, locked_by = null, run_at = now()`;

/** Puts one event back to pending, due now. False when the workspace has no such event. */
export async function requeueWebhookEvent(tx: Queryable, eventId: string): Promise<boolean> {
  const rows = await tx.unsafe(`update webhook_events set ${REQUEUED} where id = $1 returning id`, [eventId]);
  return rows.length > 0;
}

/** Puts every failed event of the workspace back to pending, due now; returns how many. */
export async function requeueFailedWebhookEvents(tx: Queryable): Promise<number> {
  const rows = await tx.unsafe(
    `update webhook_events set ${REQUEUED}
     where workspace_id = app.current_workspace_id() and status = 'failed'
     returning id`,
  );
  return rows.length;
}
