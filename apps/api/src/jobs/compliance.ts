/**
 * Shopify's mandatory privacy topics. customers/redact and shop/redact remove personal data from the
 * payloads this app stored (webhook_events.payload), keeping ids, amounts and products; the
 * customers/data_request event itself is the record of the request.
 */
import {
  findCustomerPayloads,
  findIntegrationPayloads,
  inWorkerTransaction,
  replaceEventPayload,
  type StoredPayload,
} from '@crm/db/worker';
import { type CustomersRedact, redactPayloadText } from '@crm/shopify';
import type { AppDeps } from '../deps.ts';
import type { IntegrationSettings } from '../integration-config.ts';

const PAGE = 200;

/** Pages through stored payloads, redacting each in the page's own transaction; returns how many changed. */
async function redactPages(
  deps: AppDeps,
  workspaceId: string,
  page: (afterId: string | null) => Promise<StoredPayload[]>,
): Promise<number> {
  let afterId: string | null = null;
  let changed = 0;
  for (;;) {
    const rows = await page(afterId);
    if (rows.length === 0) return changed;
    await inWorkerTransaction(deps.sql, workspaceId, async (tx) => {
      for (const row of rows) {
        const redacted = redactPayloadText(row.payload);
        if (redacted !== row.payload) {
          await replaceEventPayload(tx, row.id, redacted);
          changed++;
        }
      }
    });
    afterId = rows[rows.length - 1]?.id ?? null;
    if (rows.length < PAGE) return changed;
  }
}

/** customers/redact: that customer's personal data out of every stored payload of the workspace. */
export async function redactCustomer(
  deps: AppDeps,
  integration: IntegrationSettings,
  request: CustomersRedact,
): Promise<number> {
  const needles = [request.customer?.id, request.customer?.email, request.customer?.phone].filter(
    (n): n is string => !!n,
  );
  if (needles.length === 0 && request.orders_to_redact.length === 0) return 0;
  return redactPages(deps, integration.workspaceId, (afterId) =>
    inWorkerTransaction(deps.sql, integration.workspaceId, (tx) =>
      findCustomerPayloads(tx, { shopifyOrderIds: request.orders_to_redact, needles, afterId, limit: PAGE }),
    ),
  );
}

/** shop/redact: personal data out of every stored payload of the integration (48 h after uninstall). */
export async function redactShop(deps: AppDeps, integration: IntegrationSettings): Promise<number> {
  return redactPages(deps, integration.workspaceId, (afterId) =>
    inWorkerTransaction(deps.sql, integration.workspaceId, (tx) =>
      findIntegrationPayloads(tx, { integrationId: integration.id, afterId, limit: PAGE }),
    ),
  );
}
