/**
 * What the Connection card shows beside the connection itself: orders that arrived without customer
 * details (Shopify withholding protected customer data), and a warning when the latest webhook
 * deliveries carry another API version than the configured one (logged once too).
 */

import type { Tx } from '@crm/db';
import { countOrdersWithoutCustomer, otherDeliveryApiVersions } from '@crm/db/owner';
import type { AppDeps } from '../deps.ts';
import { deliveryVersionWarning, logApiWarningOnce } from './api-warnings.ts';

export type ConnectionHealth = { ordersWithoutCustomer: number; deliveryApiWarning: string | null };

export async function connectionHealth(
  deps: AppDeps,
  tx: Tx,
  integration: { id: string; workspaceId: string },
): Promise<ConnectionHealth> {
  const configured = deps.config.shopifyApiVersion;
  const ordersWithoutCustomer = await countOrdersWithoutCustomer(tx, integration.workspaceId, integration.id);
  const versions = await otherDeliveryApiVersions(tx, integration.workspaceId, integration.id, configured);
  const deliveryApiWarning = deliveryVersionWarning(configured, versions);
  if (deliveryApiWarning) logApiWarningOnce(deps, deliveryApiWarning);
  return { ordersWithoutCustomer, deliveryApiWarning };
}
