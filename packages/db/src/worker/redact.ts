import type { Queryable as Tx } from '../client.ts';

export type StoredPayload = { id: string; topic: string; payload: string };

/**
 * A page of the current workspace's stored payloads that concern a customer: those of the given
 * Shopify orders, or whose text contains one of the needles (the customer's id, email, phone).
 * Compliance requests are rare: a scan of the workspace's events is acceptable here. Pending
 * events are left alone (their processing still needs them); `afterId` pages on.
 */
export async function findCustomerPayloads(
  tx: Tx,
  input: { shopifyOrderIds: string[]; needles: string[]; afterId: string | null; limit: number },
): Promise<StoredPayload[]> {
  const needles = input.needles.filter((n) => n.length >= 3).map((n) => n.toLowerCase());
  return tx<StoredPayload[]>`
    select id, topic, payload from webhook_events
    where workspace_id = app.current_workspace_id()
      and status <> 'pending'
      and (${input.afterId}::uuid is null or id > ${input.afterId}::uuid)
      and (shopify_order_id = any(${input.shopifyOrderIds}::text[])
           or exists (select 1 from unnest(${needles}::text[]) n where strpos(lower(payload), n) > 0))
    order by id
    limit ${input.limit}`;
}

/** A page of every stored payload of an integration (shop/redact); pending ones are left alone. */
export async function findIntegrationPayloads(
  tx: Tx,
  input: { integrationId: string; afterId: string | null; limit: number },
): Promise<StoredPayload[]> {
  return tx<StoredPayload[]>`
    select id, topic, payload from webhook_events
    where workspace_id = app.current_workspace_id()
      and integration_id = ${input.integrationId}
      and status <> 'pending'
      and (${input.afterId}::uuid is null or id > ${input.afterId}::uuid)
    order by id
    limit ${input.limit}`;
}

/** Replaces a stored payload with its redacted form. */
export async function replaceEventPayload(tx: Tx, eventId: string, payload: string): Promise<void> {
  await tx`
    update webhook_events set payload = ${payload}
    where id = ${eventId} and workspace_id = app.current_workspace_id()`;
}
