/**
 * Orders through the GraphQL Admin API: cursor pages of orders updated since a date, oldest update
 * first, each order complete with all its line items, mapped to the REST shape (@crm/shopify/admin-graphql).
 */

import {
  type GqlLineItem,
  type GqlOrder,
  graphqlOrderToRest,
  ORDER_LINE_ITEMS_QUERY,
  ORDERS_PAGE_QUERY,
  orderLineItemsDataSchema,
  ordersPageDataSchema,
  type RestOrderJson,
} from '@crm/shopify/admin-graphql';
import type { AppConfig } from '../config.ts';
import { adminGraphql, type GraphqlOptions, type QueryCost, waitForCost } from './graphql.ts';
import type { ShopCredentials } from './http.ts';

/**
 * Page sizes. A GraphQL query may cost at most 1000 points and Shopify prices a connection at its
 * `first` times the cost of a node, so 10 orders × 10 lines (each line a few objects) stays well under
 * it. Orders with more lines fetch the rest in follow-up queries.
 */
export const DEFAULT_ORDERS_PAGE_SIZE = 10;
export const DEFAULT_LINES_PAGE_SIZE = 10;
const MORE_LINES_PAGE_SIZE = 100;

export type OrdersPage = {
  orders: RestOrderJson[];
  hasNextPage: boolean;
  endCursor: string | null;
  cost: QueryCost | null;
};

export type OrdersSinceOptions = GraphqlOptions & {
  pageSize?: number;
  linesPageSize?: number;
  /** Resume after this cursor. */
  after?: string | null;
};

/**
 * The Shopify search query for "updated at or after `since`". Note: without the `read_all_orders`
 * scope Shopify only exposes the last 60 days of orders; older ones are silently absent.
 */
export function updatedSinceQuery(since: Date): string {
  return `updated_at:>='${since.toISOString()}'`;
}

async function remainingLineItems(
  config: AppConfig,
  creds: ShopCredentials,
  order: GqlOrder,
  options: GraphqlOptions,
): Promise<GqlLineItem[]> {
  const lines = [...order.lineItems.nodes];
  let { hasNextPage, endCursor } = order.lineItems.pageInfo;
  while (hasNextPage) {
    const { data } = await adminGraphql(
      config,
      creds,
      {
        query: ORDER_LINE_ITEMS_QUERY,
        variables: { id: order.id, first: MORE_LINES_PAGE_SIZE, after: endCursor },
        what: `reading the line items of order ${order.name}`,
        data: orderLineItemsDataSchema,
      },
      options,
    );
    if (!data.order) break;
    lines.push(...data.order.lineItems.nodes);
    ({ hasNextPage, endCursor } = data.order.lineItems.pageInfo);
  }
  return lines;
}

/** One page of orders updated since `since`, after `options.after`. */
export async function fetchOrdersPage(
  config: AppConfig,
  creds: ShopCredentials,
  since: Date,
  options: OrdersSinceOptions = {},
): Promise<OrdersPage> {
  const { data, cost } = await adminGraphql(
    config,
    creds,
    {
      query: ORDERS_PAGE_QUERY,
      variables: {
        first: options.pageSize ?? DEFAULT_ORDERS_PAGE_SIZE,
        after: options.after ?? null,
        query: updatedSinceQuery(since),
        lines: options.linesPageSize ?? DEFAULT_LINES_PAGE_SIZE,
      },
      what: 'reading orders',
      data: ordersPageDataSchema,
    },
    options,
  );
  const orders: RestOrderJson[] = [];
  for (const node of data.orders.nodes) {
    const lines = node.lineItems.pageInfo.hasNextPage
      ? await remainingLineItems(config, creds, node, options)
      : node.lineItems.nodes;
    orders.push(graphqlOrderToRest(node, lines));
  }
  return {
    orders,
    hasNextPage: data.orders.pageInfo.hasNextPage,
    endCursor: data.orders.pageInfo.endCursor,
    cost,
  };
}

/**
 * Every page of orders updated since `since`. Between pages it waits when the rate-limit bucket is
 * too low for another page of the same cost, so it runs at the restore rate instead of hitting
 * THROTTLED (which adminGraphql also waits out when it happens anyway).
 */
export async function* ordersUpdatedSince(
  config: AppConfig,
  creds: ShopCredentials,
  since: Date,
  options: OrdersSinceOptions = {},
): AsyncGenerator<OrdersPage> {
  let after = options.after ?? null;
  for (;;) {
    const page = await fetchOrdersPage(config, creds, since, { ...options, after });
    yield page;
    if (!page.hasNextPage || !page.endCursor) return;
    after = page.endCursor;
    const status = page.cost?.throttleStatus;
    const nextCost = page.cost?.requestedQueryCost ?? null;
    if (status && nextCost !== null && status.currentlyAvailable < nextCost) {
      const waitMs = waitForCost(page.cost, nextCost, options.maxWaitMs ?? 30_000);
      options.onThrottle?.({ waitMs, attempt: 0 });
      await (options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))))(waitMs);
    }
  }
}
