import type { ShopifyOrder } from '@crm/shopify';
import type { AppDeps } from '../deps.ts';
import type { IntegrationSettings } from '../integration-config.ts';

export type ApplyOrderOutcome = 'created' | 'updated' | 'stale' | 'exists' | 'skipped';

/**
 * Creates the CRM order for a Shopify order (contact, lines, stage) or applies a newer update to it,
 * exactly once per (workspace, shopify order id). Used by the webhook worker and by reconciliation.
 * STUB — implemented with issue #4.
 */
export async function applyShopifyOrder(
  _deps: AppDeps,
  _integration: IntegrationSettings,
  _order: ShopifyOrder,
  _options: { topic: string },
): Promise<{ orderId: string | null; outcome: ApplyOrderOutcome }> {
  throw new Error('applyShopifyOrder: not implemented yet');
}
