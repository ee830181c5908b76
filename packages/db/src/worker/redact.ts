import type { Queryable } from '../client.ts';

export type StoredPayload = { id: string; topic: string; payload: string };

/**
 * A page of the current workspace's stored payloads that concern a customer: those of the given
 * Shopify orders, or whose text contains one of the needles (the customer's id, email, phone).
 * Compliance requests are rare: a scan of the workspace's events is acceptable here. Pending
 * events are left alone (their processing still needs them); `afterId` pages on.
 */
export async function findCustomerPayloads(
  tx: Queryable,
  input: {
    shopifyOrderIds: string[];
    needles: string[];
    /** The redaction request's own event: redacted too, although it is pending while it runs. */
    ownEventId?: string | null;
    afterId: string | null;
    limit: number;
  },
): Promise<StoredPayload[]> {
  const needles = input.needles.filter((n) => n.length >= 3).map((n) => n.toLowerCase());
  return tx<StoredPayload[]>`
    select id, topic, payload from webhook_events
    where workspace_id = app.current_workspace_id()
      and (status <> 'pending' or id = ${input.ownEventId ?? null}::uuid)
      and (${input.afterId}::uuid is null or id > ${input.afterId}::uuid)
      and (shopify_order_id = any(${input.shopifyOrderIds}::text[])
           or exists (select 1 from unnest(${needles}::text[]) n where strpos(lower(payload), n) > 0))
    order by id
    limit ${input.limit}`;
}

/** A page of every stored payload of an integration (shop/redact); pending ones are left alone. */
export async function findIntegrationPayloads(
  tx: Queryable,
  input: { integrationId: string; ownEventId?: string | null; afterId: string | null; limit: number },
): Promise<StoredPayload[]> {
  return tx<StoredPayload[]>`
    select id, topic, payload from webhook_events
    where workspace_id = app.current_workspace_id()
      and integration_id = ${input.integrationId}
      and (status <> 'pending' or id = ${input.ownEventId ?? null}::uuid)
      and (${input.afterId}::uuid is null or id > ${input.afterId}::uuid)
    order by id
    limit ${input.limit}`;
}

/** Replaces a stored payload with its redacted form. */
export async function replaceEventPayload(tx: Queryable, eventId: string, payload: string): Promise<void> {
  await tx`
    update webhook_events set payload = ${payload}
    where id = ${eventId} and workspace_id = app.current_workspace_id()`;
}

export type RedactedRecords = { contacts: number; orders: number };

/** How CRM records are redacted: the placeholder for a name, the description lines that stay. */
export type RecordRedaction = {
  /** What a contact's name becomes (the column cannot be null). */
  placeholder: string;
  /** Description lines starting with one of these stay (references, payment, amounts); the rest go. */
  keptDescriptionPrefixes: string[];
  /** A line added to a redacted order's description. */
  descriptionNote: string;
};

/** Which records a redaction reaches: one customer's, or every one of an integration (shop/redact). */
export type RecordTarget =
  | {
      kind: 'customer';
      shopifyCustomerId: string | null;
      /** lowercased */
      emails: string[];
      /** E.164 */
      phones: string[];
      shopifyOrderIds: string[];
    }
  | { kind: 'integration'; integrationId: string };

/**
 * Erases the personal data that came from Shopify in the CRM's own records, in one statement:
 * - contacts: the customer's (same Shopify customer id, email or secondary email, phone, or the
 *   contact of one of their orders) — or, for an integration, every contact of its orders — lose
 *   name, phones, emails and address; their id, Shopify customer id and orders stay;
 * - orders: the customer's (their Shopify order ids, or any order of a contact above) — or every order
 *   of the integration — lose the shipping address and the description lines that are not facts
 *   about the order (note, note attributes); amounts, lines, references and stage stay, and
 *   redacted_at is set.
 */
export async function redactRecords(
  tx: Queryable,
  target: RecordTarget,
  how: RecordRedaction,
): Promise<RedactedRecords> {
  const contactsOf =
    target.kind === 'customer'
      ? tx`
          select c.id from contacts c
          where c.workspace_id = app.current_workspace_id()
            and ((${target.shopifyCustomerId}::text is not null and c.shopify_customer_id = ${target.shopifyCustomerId})
              or lower(c.email) = any(${target.emails}::text[])
              or lower(c.secondary_email) = any(${target.emails}::text[])
              or c.phone = any(${target.phones}::text[])
              or c.secondary_phone = any(${target.phones}::text[])
              or exists (select 1 from orders o
                         where o.workspace_id = c.workspace_id and o.contact_id = c.id
                           and o.shopify_order_id = any(${target.shopifyOrderIds}::text[])))`
      : tx`
          select distinct o.contact_id as id from orders o
          where o.workspace_id = app.current_workspace_id() and o.integration_id = ${target.integrationId}
            and o.contact_id is not null`;
  const ordersOf =
    target.kind === 'customer'
      ? tx`(o.shopify_order_id = any(${target.shopifyOrderIds}::text[]) or o.contact_id in (select id from targets))`
      : tx`o.integration_id = ${target.integrationId}`;
  const [row] = await tx<RedactedRecords[]>`
    with targets as (${contactsOf}),
    contacts_done as (
      update contacts c set name = ${how.placeholder}, phone = null, secondary_phone = null, email = null,
             secondary_email = null, address = null, city = null, department = null, updated_at = now()
      where c.workspace_id = app.current_workspace_id() and c.id in (select id from targets)
      returning c.id
    ),
    orders_done as (
      update orders o set
        shipping_address = null, shipping_city = null, shipping_department = null,
        description = coalesce(
          (select string_agg(d.line, E'\n' order by d.n)
           from unnest(string_to_array(o.description, E'\n')) with ordinality as d(line, n)
           where exists (select 1 from unnest(${how.keptDescriptionPrefixes}::text[]) p
                         where starts_with(d.line, p))) || E'\n', '') || ${how.descriptionNote},
        redacted_at = now(), updated_at = now()
      where o.workspace_id = app.current_workspace_id() and ${ordersOf}
      returning o.id
    )
    select (select count(*) from contacts_done)::int as contacts, (select count(*) from orders_done)::int as orders`;
  return row ?? { contacts: 0, orders: 0 };
}
