import type { Queryable } from '../client.ts';

export type StoredPayload = { id: string; topic: string; payload: string };

/**
 * A page of the current workspace's stored payloads that concern a customer: those of the given
 * Shopify orders, or whose text contains one of the needles (the customer's id, email, phone).
 * Compliance requests are rare: a scan of the workspace's events is acceptable here. Events still
 * pending are included (the request's own, and order events not processed yet: they are then
 * processed without the personal data); `afterId` pages on.
 */
export async function findCustomerPayloads(
  tx: Queryable,
  input: {
    shopifyOrderIds: string[];
    needles: string[];
    afterId: string | null;
    limit: number;
  },
): Promise<StoredPayload[]> {
  const needles = input.needles.filter((n) => n.length >= 3).map((n) => n.toLowerCase());
  return tx<StoredPayload[]>`
    select id, topic, payload from webhook_events
    where workspace_id = app.current_workspace_id()
      and (${input.afterId}::uuid is null or id > ${input.afterId}::uuid)
      and (shopify_order_id = any(${input.shopifyOrderIds}::text[])
           or exists (select 1 from unnest(${needles}::text[]) n where strpos(lower(payload), n) > 0))
    order by id
    limit ${input.limit}`;
}

/** A page of every stored payload of an integration (shop/redact), pending ones included. */
export async function findIntegrationPayloads(
  tx: Queryable,
  input: { integrationId: string; afterId: string | null; limit: number },
): Promise<StoredPayload[]> {
  return tx<StoredPayload[]>`
    select id, topic, payload from webhook_events
    where workspace_id = app.current_workspace_id()
      and integration_id = ${input.integrationId}
      and (${input.afterId}::uuid is null or id > ${input.afterId}::uuid)
    order by id
    limit ${input.limit}`;
}

/**
 * Replaces a stored payload with its redacted form, if it is still the one that was read (`was`).
 * The update waits for a worker that is applying that event right now (its claim holds the row),
 * so the records that worker writes are committed before the redaction of records starts. False
 * when the payload changed meanwhile (read it again).
 */
export async function replaceEventPayload(
  tx: Queryable,
  eventId: string,
  payload: string,
  was: string,
): Promise<boolean> {
  const rows = await tx`
    update webhook_events set payload = ${payload}
    where id = ${eventId} and workspace_id = app.current_workspace_id() and payload = ${was}
    returning id`;
  return rows.length > 0;
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
 * - contacts: the customer's — same Shopify customer id, the contact of one of their orders, or a
 *   contact whose email or phone came from Shopify and is theirs — or, for an integration, every
 *   contact with anything from Shopify: each loses the fields that came from Shopify
 *   (`contacts.shopify_fields`, migration 0020; a name becomes the placeholder); what a person typed
 *   in the CRM stays, so a contact made by hand that merely shares an email or phone is untouched;
 * - orders: the customer's (their Shopify order ids, or any Shopify order of a contact above) — or
 *   every order of the integration — lose the shipping address and the description lines that are
 *   not facts about the order (note, note attributes); amounts, lines, references and stage stay,
 *   and redacted_at is set (later updates of the order do not bring the data back).
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
              or exists (select 1 from orders o
                         where o.workspace_id = c.workspace_id and o.contact_id = c.id
                           and o.shopify_order_id = any(${target.shopifyOrderIds}::text[]))
              or ((c.shopify_customer_id is null or c.shopify_customer_id = ${target.shopifyCustomerId}::text)
                and ((c.email_norm = any(${target.emails}::text[]) and 'email' = any(c.shopify_fields))
                  or (lower(c.secondary_email) = any(${target.emails}::text[]) and 'secondary_email' = any(c.shopify_fields))
                  or (c.phone = any(${target.phones}::text[]) and 'phone' = any(c.shopify_fields))
                  or (c.secondary_phone = any(${target.phones}::text[]) and 'secondary_phone' = any(c.shopify_fields)))))`
      : tx`
          select c.id from contacts c
          where c.workspace_id = app.current_workspace_id() and c.shopify_fields <> '{}'`;
  const ordersOf =
    target.kind === 'customer'
      ? tx`(o.shopify_order_id = any(${target.shopifyOrderIds}::text[])
            or (o.shopify_order_id is not null and o.contact_id in (select id from targets)))`
      : tx`o.integration_id = ${target.integrationId}`;
  const erase = (field: string) => tx`${field}::text = any(c.shopify_fields)`;
  const [row] = await tx<RedactedRecords[]>`
    with targets as (${contactsOf}),
    contacts_done as (
      update contacts c set
        name = case when ${erase('name')} then ${how.placeholder} else c.name end,
        phone = case when ${erase('phone')} then null else c.phone end,
        secondary_phone = case when ${erase('secondary_phone')} then null else c.secondary_phone end,
        email = case when ${erase('email')} then null else c.email end,
        secondary_email = case when ${erase('secondary_email')} then null else c.secondary_email end,
        address = case when ${erase('address')} then null else c.address end,
        city = case when ${erase('city')} then null else c.city end,
        department = case when ${erase('department')} then null else c.department end,
        updated_at = now()
      where c.workspace_id = app.current_workspace_id() and c.id in (select id from targets)
        and c.shopify_fields && array['name', 'phone', 'secondary_phone', 'email', 'secondary_email',
                                      'address', 'city', 'department']
        and not (c.shopify_fields = array['name'] and c.name = ${how.placeholder})
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
