import type { Queryable } from '../client.ts';
import type { WebhookEventStatus } from '../values.ts';

export type EventCounts = {
  received: number;
  processed: number;
  failed: number;
  pending: number;
  ignored: number;
};

export async function eventStats(
  tx: Queryable,
  input: { workspaceId: string; todayStart: Date | null },
): Promise<{ today: EventCounts; overall: EventCounts; lastSyncAt: Date | null }> {
  const [row] = await tx<
    {
      tReceived: number;
      tProcessed: number;
      tFailed: number;
      tPending: number;
      tIgnored: number;
      received: number;
      processed: number;
      failed: number;
      pending: number;
      ignored: number;
      lastSyncAt: Date | null;
    }[]
  >`
    with e as (
      select status, received_at >= coalesce(${input.todayStart}::timestamptz, date_trunc('day', now())) as today
      from webhook_events where workspace_id = ${input.workspaceId}
    )
    select
      (count(*) filter (where today))::int as "tReceived",
      (count(*) filter (where today and status = 'processed'))::int as "tProcessed",
      (count(*) filter (where today and status = 'failed'))::int as "tFailed",
      (count(*) filter (where today and status = 'pending'))::int as "tPending",
      (count(*) filter (where today and status = 'ignored'))::int as "tIgnored",
      count(*)::int as received,
      (count(*) filter (where status = 'processed'))::int as processed,
      (count(*) filter (where status = 'failed'))::int as failed,
      (count(*) filter (where status = 'pending'))::int as pending,
      (count(*) filter (where status = 'ignored'))::int as ignored,
      (select max(last_sync_at) from integrations where workspace_id = ${input.workspaceId}) as "lastSyncAt"
    from e`;
  if (!row) throw new Error('no stats');
  return {
    today: {
      received: row.tReceived,
      processed: row.tProcessed,
      failed: row.tFailed,
      pending: row.tPending,
      ignored: row.tIgnored,
    },
    overall: {
      received: row.received,
      processed: row.processed,
      failed: row.failed,
      pending: row.pending,
      ignored: row.ignored,
    },
    lastSyncAt: row.lastSyncAt,
  };
}

export type EventSummary = {
  id: string;
  integrationId: string;
  externalId: string;
  eventId: string | null;
  topic: string;
  shopDomain: string;
  status: WebhookEventStatus;
  attempts: number;
  lastError: string | null;
  /** What processing did, for the owner: an order there already, an older update, a redaction. */
  note: string | null;
  shopifyOrderId: string | null;
  orderId: string | null;
  receivedAt: Date;
  processedAt: Date | null;
  /** received_at to the microsecond (ISO, UTC), for keyset cursors: a JS Date keeps only milliseconds. */
  cursorTs: string;
};

export type EventDetail = EventSummary & {
  apiVersion: string | null;
  triggeredAt: Date | null;
  payload: string;
};

const SUMMARY_COLUMNS = `id, integration_id as "integrationId", external_id as "externalId", event_id as "eventId",
  topic, shop_domain as "shopDomain", status, attempts, last_error as "lastError", note,
  shopify_order_id as "shopifyOrderId", order_id as "orderId", received_at as "receivedAt",
  processed_at as "processedAt",
  to_char(received_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || 'Z' as "cursorTs"`;

export type EventListFilter = {
  workspaceId: string;
  status?: WebhookEventStatus | undefined;
  topic?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  /** Keyset cursor: the (received_at, id) of the last row of the previous page. */
  after?: { receivedAt: string; id: string } | undefined;
  limit: number;
};

/**
 * Newest first, keyset-paginated on (received_at, id). The cursor's timestamp goes in as text: a
 * timestamptz parameter would pass through a JS Date and lose its microseconds, skipping rows.
 */
export async function listEvents(tx: Queryable, f: EventListFilter): Promise<EventSummary[]> {
  return tx<EventSummary[]>`
    select ${tx.unsafe(SUMMARY_COLUMNS)}
    from webhook_events
    where workspace_id = ${f.workspaceId}
      ${f.status ? tx`and status = ${f.status}` : tx``}
      ${f.topic ? tx`and topic = ${f.topic}` : tx``}
      ${f.from ? tx`and received_at >= ${f.from}` : tx``}
      ${f.to ? tx`and received_at < ${f.to}` : tx``}
      ${f.after ? tx`and (received_at, id) < (${f.after.receivedAt}::text::timestamptz, ${f.after.id}::uuid)` : tx``}
    order by received_at desc, id desc
    limit ${f.limit}`;
}

export async function getEvent(
  tx: Queryable,
  workspaceId: string,
  eventId: string,
): Promise<EventDetail | null> {
  const [row] = await tx<EventDetail[]>`
    select ${tx.unsafe(SUMMARY_COLUMNS)}, api_version as "apiVersion", triggered_at as "triggeredAt", payload
    from webhook_events where workspace_id = ${workspaceId} and id = ${eventId}`;
  return row ?? null;
}

export async function listEventTopics(tx: Queryable, workspaceId: string): Promise<string[]> {
  // One index probe per distinct topic (webhook_events_topic_idx), not a read of every event.
  const rows = await tx<{ topic: string }[]>`
    with recursive t(topic) as (
      (select topic from webhook_events where workspace_id = ${workspaceId} order by topic limit 1)
      union all
      select (select e.topic from webhook_events e
              where e.workspace_id = ${workspaceId} and e.topic > t.topic order by e.topic limit 1)
      from t where t.topic is not null
    )
    select topic from t where topic is not null order by topic`;
  return rows.map((r) => r.topic);
}
