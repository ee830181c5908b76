/**
 * Shopify's mandatory privacy topics. customers/redact and shop/redact erase personal data from
 *   - every payload this app stored (webhook_events.payload) that concerns the customer (or the shop),
 *     the redaction request's own event and events still pending included, keeping ids, amounts and
 *     products;
 *   - then the CRM records that came from Shopify for them: contacts lose the names, emails, phones
 *     and addresses that came from Shopify (what a person typed stays); orders lose the shipping
 *     address and the buyer's note, keeping amounts, lines, references and stage, and are marked
 *     redacted so later updates do not bring the data back (see redactRecords in @crm/db/worker).
 * Payloads go first: replacing one waits for a worker applying that event at this moment, so the
 * records it writes are there when records are redacted; an event processed afterwards reads a
 * payload without the personal data (the schemas read "[redacted]" as absent).
 * What was erased is the note of the request's event. The customers/data_request event itself is
 * the record of that request.
 */
import {
  findCustomerPayloads,
  findIntegrationPayloads,
  inWorkerTransaction,
  type RecordRedaction,
  type RedactedRecords,
  redactRecords,
  replaceEventPayload,
  type StoredPayload,
} from '@crm/db/worker';
import {
  type CustomersRedact,
  DESCRIPTION_FACT_PREFIXES,
  normalizePhone,
  REDACTED,
  REDACTED_ORDER_NOTE,
  redactPayloadText,
} from '@crm/shopify';
import type { AppDeps } from '../deps.ts';
import type { IntegrationSettings } from '../integration-config.ts';

const PAGE = 200;

const RECORD_REDACTION: RecordRedaction = {
  placeholder: REDACTED,
  keptDescriptionPrefixes: [...DESCRIPTION_FACT_PREFIXES],
  descriptionNote: REDACTED_ORDER_NOTE,
};

export type Redaction = RedactedRecords & { payloads: number };

/**
 * Pages through stored payloads, redacting each in the page's own transaction; returns how many
 * changed. A page whose payload changed between read and write is read again.
 */
async function redactPages(
  deps: AppDeps,
  workspaceId: string,
  page: (afterId: string | null) => Promise<StoredPayload[]>,
): Promise<number> {
  let afterId: string | null = null;
  let changed = 0;
  for (let rereads = 0; ; ) {
    const rows = await page(afterId);
    if (rows.length === 0) return changed;
    const stale = await inWorkerTransaction(deps.sql, workspaceId, async (tx) => {
      let missed = false;
      for (const row of rows) {
        const redacted = redactPayloadText(row.payload);
        if (redacted === row.payload) continue;
        if (await replaceEventPayload(tx, row.id, redacted, row.payload)) changed++;
        else missed = true;
      }
      return missed;
    });
    if (stale && rereads++ < 3) continue; // the same page again
    afterId = rows[rows.length - 1]?.id ?? null;
    if (rows.length < PAGE) return changed;
  }
}

const known = (v: string | null | undefined): v is string => !!v && v !== REDACTED;

/** customers/redact: that customer's personal data out of every stored payload and CRM record. */
export async function redactCustomer(
  deps: AppDeps,
  integration: IntegrationSettings,
  request: CustomersRedact,
): Promise<Redaction> {
  const { customer } = request;
  const email = known(customer?.email) ? customer.email.toLowerCase() : null;
  const phone = known(customer?.phone)
    ? normalizePhone(customer.phone, integration.defaultPhoneCountry)
    : null;
  const needles = [customer?.id, customer?.email, customer?.phone].filter(known);
  const payloads = await redactPages(deps, integration.workspaceId, (afterId) =>
    inWorkerTransaction(deps.sql, integration.workspaceId, (tx) =>
      findCustomerPayloads(tx, {
        shopifyOrderIds: request.orders_to_redact,
        needles,
        afterId,
        limit: PAGE,
      }),
    ),
  );
  const records = await inWorkerTransaction(deps.sql, integration.workspaceId, (tx) =>
    redactRecords(
      tx,
      {
        kind: 'customer',
        shopifyCustomerId: customer?.id ?? null,
        emails: email ? [email] : [],
        phones: phone ? [phone] : [],
        shopifyOrderIds: request.orders_to_redact,
      },
      RECORD_REDACTION,
    ),
  );
  return { ...records, payloads };
}

/** shop/redact: personal data out of every stored payload and CRM record of the integration. */
export async function redactShop(deps: AppDeps, integration: IntegrationSettings): Promise<Redaction> {
  const payloads = await redactPages(deps, integration.workspaceId, (afterId) =>
    inWorkerTransaction(deps.sql, integration.workspaceId, (tx) =>
      findIntegrationPayloads(tx, { integrationId: integration.id, afterId, limit: PAGE }),
    ),
  );
  const records = await inWorkerTransaction(deps.sql, integration.workspaceId, (tx) =>
    redactRecords(tx, { kind: 'integration', integrationId: integration.id }, RECORD_REDACTION),
  );
  return { ...records, payloads };
}

/** The record the owner reads on the request's event. */
export function describeRedaction(who: string, r: Redaction): string {
  const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;
  return (
    `${who}: personal data (names, emails, phones, addresses, notes) erased from ` +
    `${plural(r.payloads, 'stored event')}, ${plural(r.contacts, 'contact')} and ${plural(r.orders, 'order')}; ` +
    'amounts, lines and references kept.'
  );
}
