import type { Queryable } from '../client.ts';
import type { NewOrderLine } from '../worker/orders.ts';

/** A stored line: what the worker writes (NewOrderLine), with its id. */
export type OrderLine = NewOrderLine & { id: string };

export type OrderListItem = {
  id: string;
  pipelineId: string;
  stageId: string;
  stageName: string;
  integrationId: string | null;
  contact: {
    id: string;
    name: string;
    phone: string | null;
    email: string | null;
    city: string | null;
  } | null;
  /** After every discount and refund (the lines' sum), in `currency`. */
  totalValue: string;
  /** Before refunds; null for orders that never came from Shopify's amounts. */
  originalTotal: string | null;
  currency: string | null;
  presentmentCurrency: string | null;
  presentmentTotal: string | null;
  tags: string[];
  isTest: boolean;
  /** When customers/redact or shop/redact erased the buyer's personal data from the order. */
  redactedAt: Date | null;
  description: string;
  shippingAddress: string | null;
  shippingCity: string | null;
  shippingDepartment: string | null;
  shopifyOrderId: string | null;
  shopifyOrderName: string | null;
  financialStatus: string | null;
  cancelledAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** created_at to the microsecond (ISO, UTC), for keyset cursors. */
  cursorTs: string;
  lines: OrderLine[];
};

export type OrderListFilter = {
  workspaceId: string;
  pipelineId?: string | undefined;
  stageId?: string | undefined;
  /** Shopify test orders: shown with the others (default), left out, or alone. */
  testOrders?: 'include' | 'exclude' | 'only' | undefined;
  after?: { createdAt: string; id: string } | undefined;
  limit: number;
};

/**
 * Newest first, keyset-paginated on (created_at, id), each with its lines (in Shopify's line order).
 * The cursor's timestamp goes in as text, keeping its microseconds (a JS Date would not).
 */
export async function listOrders(tx: Queryable, f: OrderListFilter): Promise<OrderListItem[]> {
  const rows = await tx<
    (Omit<OrderListItem, 'contact' | 'lines'> & {
      contactId: string | null;
      contactName: string | null;
      contactPhone: string | null;
      contactEmail: string | null;
      contactCity: string | null;
    })[]
  >`
    select o.id, o.pipeline_id as "pipelineId", o.stage_id as "stageId", s.name as "stageName",
           o.integration_id as "integrationId", o.total_value::text as "totalValue", o.description,
           o.original_total::text as "originalTotal", o.currency, o.presentment_currency as "presentmentCurrency",
           o.presentment_total::text as "presentmentTotal", o.tags, o.is_test as "isTest",
           o.redacted_at as "redactedAt",
           o.shipping_address as "shippingAddress", o.shipping_city as "shippingCity",
           o.shipping_department as "shippingDepartment", o.shopify_order_id as "shopifyOrderId",
           o.shopify_order_name as "shopifyOrderName", o.financial_status as "financialStatus",
           o.cancelled_at as "cancelledAt", o.created_at as "createdAt", o.updated_at as "updatedAt",
           to_char(o.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || 'Z' as "cursorTs",
           c.id as "contactId", c.name as "contactName", c.phone as "contactPhone",
           c.email as "contactEmail", c.city as "contactCity"
    from orders o
    join pipeline_stages s on s.workspace_id = o.workspace_id and s.id = o.stage_id
    left join contacts c on c.workspace_id = o.workspace_id and c.id = o.contact_id
    where o.workspace_id = ${f.workspaceId}
      ${f.pipelineId ? tx`and o.pipeline_id = ${f.pipelineId}` : tx``}
      ${f.stageId ? tx`and o.stage_id = ${f.stageId}` : tx``}
      ${f.testOrders === 'exclude' ? tx`and not o.is_test` : f.testOrders === 'only' ? tx`and o.is_test` : tx``}
      ${f.after ? tx`and (o.created_at, o.id) < (${f.after.createdAt}::text::timestamptz, ${f.after.id}::uuid)` : tx``}
    order by o.created_at desc, o.id desc
    limit ${f.limit}`;
  const ids = rows.map((r) => r.id);
  const lines =
    ids.length === 0
      ? []
      : await tx<(OrderLine & { orderId: string })[]>`
          select id, order_id as "orderId", product_id as "productId", shopify_line_id as "shopifyLineId",
                 sku, title, unit_price::text as "unitPrice", quantity, subtotal::text as subtotal,
                 original_quantity as "originalQuantity", original_subtotal::text as "originalSubtotal"
          from order_products
          where workspace_id = ${f.workspaceId} and order_id = any(${ids}::uuid[])
          order by created_at, length(shopify_line_id), shopify_line_id, id`;
  return rows.map(({ contactId, contactName, contactPhone, contactEmail, contactCity, ...o }) => ({
    ...o,
    contact:
      contactId !== null
        ? {
            id: contactId,
            name: contactName ?? '',
            phone: contactPhone,
            email: contactEmail,
            city: contactCity,
          }
        : null,
    lines: lines.filter((l) => l.orderId === o.id).map(({ orderId: _o, ...l }) => l),
  }));
}
