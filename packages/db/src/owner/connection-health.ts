import type { Queryable } from '../client.ts';

/**
 * Orders of the integration imported without any customer details (no name, phone or email, so no
 * contact): what arrives when Shopify withholds protected customer data from the app.
 */
export async function countOrdersWithoutCustomer(
  tx: Queryable,
  workspaceId: string,
  integrationId: string,
): Promise<number> {
  const [row] = await tx<{ n: number }[]>`
    select count(*)::int as n from orders
    where integration_id = ${integrationId} and workspace_id = ${workspaceId}
      and contact_id is null`;
  return row?.n ?? 0;
}

/**
 * The API versions of the workspace's latest deliveries (X-Shopify-API-Version, last 100) that differ
 * from the configured one: Shopify delivering another version than the app asks for.
 */
export async function otherDeliveryApiVersions(
  tx: Queryable,
  workspaceId: string,
  integrationId: string,
  configured: string,
): Promise<string[]> {
  const rows = await tx<{ v: string }[]>`
    select distinct e.api_version as v from (
      select api_version, integration_id from webhook_events
      where workspace_id = ${workspaceId}
      order by received_at desc, id desc limit 100
    ) e
    where e.integration_id = ${integrationId} and e.api_version is not null and e.api_version <> ${configured}
    order by 1`;
  return rows.map((r) => r.v);
}
