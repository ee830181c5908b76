import type { Queryable } from '../client.ts';

/**
 * Serialises everything that creates or updates one Shopify order in the current workspace (webhook
 * jobs, retries, reconciliation) until the transaction ends. The unique
 * (workspace_id, shopify_order_id) index remains the last word; this only spares the losers the work.
 */
export async function lockShopifyOrder(tx: Queryable, shopifyOrderId: string): Promise<void> {
  await tx`
    select pg_advisory_xact_lock(
      hashtextextended('shopify_order:' || app.current_workspace_id()::text || ':' || ${shopifyOrderId}, 0))`;
}

export type StoredShopifyOrder = {
  id: string;
  pipelineId: string;
  stageId: string;
  shopifyUpdatedAt: Date | null;
  cancelledAt: Date | null;
};

/** The CRM order of a Shopify order, row-locked (`for update`) until the transaction ends. */
export async function findOrderByShopifyIdForUpdate(
  tx: Queryable,
  shopifyOrderId: string,
): Promise<StoredShopifyOrder | null> {
  const [row] = await tx<StoredShopifyOrder[]>`
    select id, pipeline_id as "pipelineId", stage_id as "stageId",
           shopify_updated_at as "shopifyUpdatedAt", cancelled_at as "cancelledAt"
    from orders
    where workspace_id = app.current_workspace_id() and shopify_order_id = ${shopifyOrderId}
    for update`;
  return row ?? null;
}

export type OrderPlacement =
  | { ok: true; pipelineId: string; stageId: string }
  | { ok: false; reason: 'no_pipeline' | 'pipeline_missing' | 'no_stages' };

/**
 * Where a new order lands: the configured stage when it belongs to the configured pipeline, else the
 * pipeline's first stage by position.
 */
export async function resolveOrderPlacement(
  tx: Queryable,
  pipelineId: string | null,
  stageId: string | null,
): Promise<OrderPlacement> {
  if (!pipelineId) return { ok: false, reason: 'no_pipeline' };
  const [row] = await tx<{ pipelineId: string; stageId: string | null }[]>`
    select p.id as "pipelineId",
           coalesce(
             (select s.id from pipeline_stages s where s.pipeline_id = p.id and s.id = ${stageId}::uuid),
             (select s.id from pipeline_stages s where s.pipeline_id = p.id order by s.position, s.created_at, s.id
              limit 1)
           ) as "stageId"
    from pipelines p
    where p.workspace_id = app.current_workspace_id() and p.id = ${pipelineId}`;
  if (!row) return { ok: false, reason: 'pipeline_missing' };
  if (!row.stageId) return { ok: false, reason: 'no_stages' };
  return { ok: true, pipelineId: row.pipelineId, stageId: row.stageId };
}

/** The pipeline's stage marked cancelled, if it has one (the first by position). */
export async function findCancelledStage(tx: Queryable, pipelineId: string): Promise<string | null> {
  const [row] = await tx<{ id: string }[]>`
    select id from pipeline_stages
    where workspace_id = app.current_workspace_id() and pipeline_id = ${pipelineId} and is_cancelled
    order by position, created_at, id
    limit 1`;
  return row?.id ?? null;
}

export type NewShopifyOrder = {
  integrationId: string;
  contactId: string | null;
  pipelineId: string;
  stageId: string;
  shopifyOrderId: string;
  shopifyOrderName: string | null;
  financialStatus: string | null;
  cancelledAt: Date | null;
  shopifyUpdatedAt: Date | null;
  description: string;
  shippingAddress: string | null;
  shippingCity: string | null;
  shippingDepartment: string | null;
} & ShopifyOrderMoney;

/** What an order is worth and how Shopify labels it (migration 0017). */
export type ShopifyOrderMoney = {
  /** The shop's currency: every amount of the order and its lines is in it. */
  currency: string | null;
  presentmentCurrency: string | null;
  /** decimal string */
  presentmentTotal: string | null;
  /** The goods before refunds (decimal string); total_value is the lines' sum, after refunds. */
  originalTotal: string | null;
  tags: string[];
  isTest: boolean;
};

/**
 * Inserts the order unless the workspace has that Shopify order already (the partial unique index
 * decides, whoever else is inserting it at this moment): null then.
 */
export async function insertShopifyOrder(tx: Queryable, order: NewShopifyOrder): Promise<string | null> {
  const [row] = await tx<{ id: string }[]>`
    insert into orders (workspace_id, contact_id, pipeline_id, stage_id, integration_id, description,
                        shipping_address, shipping_city, shipping_department, shopify_order_id,
                        shopify_order_name, financial_status, cancelled_at, shopify_updated_at, currency,
                        presentment_currency, presentment_total, original_total, tags, is_test)
    values (app.current_workspace_id(), ${order.contactId}, ${order.pipelineId}, ${order.stageId},
            ${order.integrationId}, ${order.description}, ${order.shippingAddress}, ${order.shippingCity},
            ${order.shippingDepartment}, ${order.shopifyOrderId}, ${order.shopifyOrderName},
            ${order.financialStatus}, ${order.cancelledAt}, ${order.shopifyUpdatedAt}, ${order.currency},
            ${order.presentmentCurrency}, ${order.presentmentTotal}::numeric, ${order.originalTotal}::numeric,
            ${order.tags}::text[], ${order.isTest})
    on conflict (workspace_id, shopify_order_id) where shopify_order_id is not null do nothing
    returning id`;
  return row?.id ?? null;
}

export type NewOrderLine = {
  productId: string | null;
  shopifyLineId: string | null;
  sku: string;
  title: string;
  /** decimal strings: money never passes through a binary float */
  unitPrice: string;
  /** Units left after refunds: 0 for a line refunded whole (then originalQuantity > 0). */
  quantity: number;
  subtotal: string;
  /** As ordered, before refunds (Shopify lines); null for lines that never had refunds to track. */
  originalQuantity: number | null;
  originalSubtotal: string | null;
};

const lineArrays = (lines: NewOrderLine[]) => ({
  products: lines.map((l) => l.productId),
  lineIds: lines.map((l) => l.shopifyLineId),
  skus: lines.map((l) => l.sku),
  titles: lines.map((l) => l.title),
  units: lines.map((l) => l.unitPrice),
  quantities: lines.map((l) => l.quantity),
  subtotals: lines.map((l) => l.subtotal),
  originalQs: lines.map((l) => l.originalQuantity),
  originalSs: lines.map((l) => l.originalSubtotal),
});

/** The order's lines; the order total follows by trigger. */
export async function insertOrderLines(tx: Queryable, orderId: string, lines: NewOrderLine[]): Promise<void> {
  if (lines.length === 0) return;
  const { products, lineIds, skus, titles, units, quantities, subtotals, originalQs, originalSs } =
    lineArrays(lines);
  await tx`
    insert into order_products (workspace_id, order_id, product_id, shopify_line_id, sku, title, unit_price,
                                quantity, subtotal, original_quantity, original_subtotal)
    select app.current_workspace_id(), ${orderId}, l.product_id, l.shopify_line_id, l.sku, l.title,
           l.unit_price, l.quantity, l.subtotal, l.original_quantity, l.original_subtotal
    from unnest(${products}::uuid[], ${lineIds}::text[], ${skus}::text[], ${titles}::text[],
                ${units}::numeric[], ${quantities}::int[], ${subtotals}::numeric[], ${originalQs}::int[],
                ${originalSs}::numeric[])
         with ordinality as l(product_id, shopify_line_id, sku, title, unit_price, quantity, subtotal,
                              original_quantity, original_subtotal, n)
    order by l.n`;
}

/**
 * Brings the order's Shopify lines to Shopify's current values (refunds, removals): each line of
 * `lines` updates the order's line with its shopify_line_id (quantities, amounts, sku; the matched
 * product stays), and a line the order does not have yet (added by an order edit) is inserted. Lines
 * not from Shopify are left alone. The order total follows by trigger.
 */
export async function syncShopifyOrderLines(
  tx: Queryable,
  orderId: string,
  lines: NewOrderLine[],
): Promise<void> {
  const shopifyLines = lines.filter((l) => l.shopifyLineId !== null);
  if (shopifyLines.length === 0) return;
  const { lineIds, skus, units, quantities, subtotals, originalQs, originalSs } = lineArrays(shopifyLines);
  const updated = await tx<{ shopifyLineId: string }[]>`
    update order_products p set
      sku = l.sku, unit_price = l.unit_price, quantity = l.quantity, subtotal = l.subtotal,
      original_quantity = l.original_quantity, original_subtotal = l.original_subtotal
    from unnest(${lineIds}::text[], ${skus}::text[], ${units}::numeric[], ${quantities}::int[],
                ${subtotals}::numeric[], ${originalQs}::int[], ${originalSs}::numeric[])
         as l(shopify_line_id, sku, unit_price, quantity, subtotal, original_quantity, original_subtotal)
    where p.order_id = ${orderId} and p.workspace_id = app.current_workspace_id()
      and p.shopify_line_id = l.shopify_line_id
    returning p.shopify_line_id as "shopifyLineId"`;
  const seen = new Set(updated.map((r) => r.shopifyLineId));
  await insertOrderLines(
    tx,
    orderId,
    shopifyLines.filter((l) => !seen.has(l.shopifyLineId as string)),
  );
}

export type ShopifyOrderUpdate = {
  financialStatus: string | null;
  cancelledAt: Date | null;
  shopifyUpdatedAt: Date;
  description: string;
  shippingAddress: string | null;
  shippingCity: string | null;
  shippingDepartment: string | null;
  /** Move to this stage (the cancelled stage of a cancelled order); null leaves the stage. */
  stageId: string | null;
} & ShopifyOrderMoney;

/**
 * Applies the Shopify-owned fields of an order if the update is newer than the last one applied.
 * False when it is not (an older or equal `updated_at`): nothing changes.
 */
export async function updateShopifyOrderIfNewer(
  tx: Queryable,
  orderId: string,
  update: ShopifyOrderUpdate,
): Promise<boolean> {
  const rows = await tx`
    update orders set
      financial_status = ${update.financialStatus},
      cancelled_at = ${update.cancelledAt},
      shopify_updated_at = ${update.shopifyUpdatedAt},
      description = ${update.description},
      shipping_address = ${update.shippingAddress},
      shipping_city = ${update.shippingCity},
      shipping_department = ${update.shippingDepartment},
      currency = ${update.currency},
      presentment_currency = ${update.presentmentCurrency},
      presentment_total = ${update.presentmentTotal}::numeric,
      original_total = ${update.originalTotal}::numeric,
      tags = ${update.tags}::text[],
      is_test = ${update.isTest},
      stage_id = coalesce(${update.stageId}::uuid, stage_id),
      updated_at = now()
    where id = ${orderId} and workspace_id = app.current_workspace_id()
      and (shopify_updated_at is null or shopify_updated_at < ${update.shopifyUpdatedAt})
    returning id`;
  return rows.length > 0;
}
