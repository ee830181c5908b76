import type { Queryable } from '../client.ts';
import { type ContactFields, insertContactUnlessPhoneTaken } from './contacts.ts';

/**
 * Serialises everything that creates or updates one Shopify order in the current workspace (webhook
 * jobs, retries, reconciliation) until the transaction ends. The unique
 * (workspace_id, shopify_order_id) index remains the last word; this only spares the losers the work.
 */
function lockShopifyOrder(tx: Queryable, shopifyOrderId: string) {
  return tx`
    select pg_advisory_xact_lock(
      hashtextextended('shopify_order:' || app.current_workspace_id()::text || ':' || ${shopifyOrderId}, 0))`;
}

export type StoredShopifyOrder = {
  id: string;
  pipelineId: string;
  stageId: string;
  shopifyUpdatedAt: Date | null;
  cancelledAt: Date | null;
  /** The order's pipeline's stage marked cancelled (the first by position), if it has one. */
  cancelledStageId: string | null;
  /** Set by customers/redact or shop/redact: updates must not write personal data back. */
  redactedAt: Date | null;
};

/** The first stage marked cancelled of the pipeline in `column`, as a subquery. */
const cancelledStageOf = (column: 'o.pipeline_id' | 'p.id') => `(
  select s.id from pipeline_stages s
  where s.workspace_id = app.current_workspace_id() and s.pipeline_id = ${column} and s.is_cancelled
  order by s.position, s.created_at, s.id
  limit 1)`;

/** The CRM order of a Shopify order, row-locked (`for update`) until the transaction ends. */
function findOrderByShopifyIdForUpdate(tx: Queryable, shopifyOrderId: string) {
  return tx<StoredShopifyOrder[]>`
    select o.id, o.pipeline_id as "pipelineId", o.stage_id as "stageId",
           o.shopify_updated_at as "shopifyUpdatedAt", o.cancelled_at as "cancelledAt",
           ${tx.unsafe(cancelledStageOf('o.pipeline_id'))} as "cancelledStageId", o.redacted_at as "redactedAt"
    from orders o
    where o.workspace_id = app.current_workspace_id() and o.shopify_order_id = ${shopifyOrderId}
    for update of o`;
}

export type OrderPlacement =
  | { ok: true; pipelineId: string; stageId: string; cancelledStageId: string | null }
  | { ok: false; reason: 'no_pipeline' | 'pipeline_missing' | 'no_stages' };

/**
 * Where a new order lands: the configured stage when it belongs to the configured pipeline, else the
 * pipeline's first stage by position; and that pipeline's cancelled stage, for an order cancelled
 * already.
 */
function findPlacement(tx: Queryable, pipelineId: string, stageId: string | null) {
  return tx<{ pipelineId: string; stageId: string | null; cancelledStageId: string | null }[]>`
    select p.id as "pipelineId",
           coalesce(
             (select s.id from pipeline_stages s where s.pipeline_id = p.id and s.id = ${stageId}::uuid),
             (select s.id from pipeline_stages s where s.pipeline_id = p.id order by s.position, s.created_at, s.id
              limit 1)
           ) as "stageId",
           ${tx.unsafe(cancelledStageOf('p.id'))} as "cancelledStageId"
    from pipelines p
    where p.workspace_id = app.current_workspace_id() and p.id = ${pipelineId}`;
}

function placementOf(
  row: { pipelineId: string; stageId: string | null; cancelledStageId: string | null } | undefined,
): OrderPlacement {
  if (!row) return { ok: false, reason: 'pipeline_missing' };
  if (!row.stageId) return { ok: false, reason: 'no_stages' };
  return {
    ok: true,
    pipelineId: row.pipelineId,
    stageId: row.stageId,
    cancelledStageId: row.cancelledStageId,
  };
}

/**
 * Opens the work on one Shopify order, in ONE round trip: takes the order's advisory lock, then reads
 * the CRM order row-locked (`for update`) and where a new one would land — three statements sent
 * together, run in that order, each with its own snapshot (so the read sees whatever the lock's
 * previous holder committed). Statements the caller sends before awaiting go in the same round trip.
 */
export async function openShopifyOrder(
  tx: Queryable,
  shopifyOrderId: string,
  configured: { pipelineId: string | null; stageId: string | null },
): Promise<{ existing: StoredShopifyOrder | null; placement: OrderPlacement }> {
  const { pipelineId, stageId } = configured;
  const [, [existing], placed] = await Promise.all([
    lockShopifyOrder(tx, shopifyOrderId),
    findOrderByShopifyIdForUpdate(tx, shopifyOrderId),
    pipelineId ? findPlacement(tx, pipelineId, stageId) : null,
  ]);
  const placement: OrderPlacement = placed ? placementOf(placed[0]) : { ok: false, reason: 'no_pipeline' };
  return { existing: existing ?? null, placement };
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

/**
 * The insert of `lines` into order_products for the order whose id is the `id` column of `orders`
 * (a relation: a CTE's name, or a one-row subquery), kept in the lines' order. A statement of its own,
 * or a CTE's body.
 */
function insertLinesOf(tx: Queryable, orders: ReturnType<Queryable['unsafe']>, lines: NewOrderLine[]) {
  const { products, lineIds, skus, titles, units, quantities, subtotals, originalQs, originalSs } =
    lineArrays(lines);
  return tx`
    insert into order_products (workspace_id, order_id, product_id, shopify_line_id, sku, title, unit_price,
                                quantity, subtotal, original_quantity, original_subtotal)
    select app.current_workspace_id(), o.id, l.product_id, l.shopify_line_id, l.sku, l.title,
           l.unit_price, l.quantity, l.subtotal, l.original_quantity, l.original_subtotal
    from ${orders} as o,
         unnest(${products}::uuid[], ${lineIds}::text[], ${skus}::text[], ${titles}::text[],
                ${units}::numeric[], ${quantities}::int[], ${subtotals}::numeric[], ${originalQs}::int[],
                ${originalSs}::numeric[])
         with ordinality as l(product_id, shopify_line_id, sku, title, unit_price, quantity, subtotal,
                              original_quantity, original_subtotal, n)
    order by l.n`;
}

/** The order's lines; the order total follows by trigger. */
export async function insertOrderLines(tx: Queryable, orderId: string, lines: NewOrderLine[]): Promise<void> {
  if (lines.length === 0) return;
  await insertLinesOf(tx, tx`(select ${orderId}::uuid as id)`, lines);
}

/** A possible duplicate of the order's contact, for a human (contact_reviews). */
export type NewContactReview = { candidateContactId: string; reasons: string[]; score: number };

/**
 * Inserts the order, its lines and (when given) a review of its contact, in ONE statement, unless the
 * workspace has that Shopify order already (the partial unique index decides, whoever else is
 * inserting it at this moment): null then, and nothing is written. The order total follows its lines
 * by trigger (at the end of the statement).
 */
export async function insertShopifyOrder(
  tx: Queryable,
  order: NewShopifyOrder,
  lines: NewOrderLine[],
  review: NewContactReview | null,
  newContact: (ContactFields & { phone: string }) | null = null,
): Promise<{ orderId: string | null; contactId: string | null }> {
  const score = review ? Math.min(9.9999, Math.max(0, Math.round(review.score * 10_000) / 10_000)) : null;
  const [row] = await tx<{ orderId: string | null; contactId: string | null }[]>`
    with c as (
      ${newContact ? insertContactUnlessPhoneTaken(tx, newContact) : tx`select ${order.contactId}::uuid as id`}
    ),
    o as (
      insert into orders (workspace_id, contact_id, pipeline_id, stage_id, integration_id, description,
                          shipping_address, shipping_city, shipping_department, shopify_order_id,
                          shopify_order_name, financial_status, cancelled_at, shopify_updated_at, currency,
                          presentment_currency, presentment_total, original_total, tags, is_test)
      select app.current_workspace_id(), c.id, ${order.pipelineId}::uuid, ${order.stageId}::uuid,
             ${order.integrationId}::uuid, ${order.description}::text, ${order.shippingAddress}::text,
             ${order.shippingCity}::text, ${order.shippingDepartment}::text, ${order.shopifyOrderId}::text,
             ${order.shopifyOrderName}::text, ${order.financialStatus}::text, ${order.cancelledAt}::timestamptz,
             ${order.shopifyUpdatedAt}::timestamptz, ${order.currency}::text, ${order.presentmentCurrency}::text,
             ${order.presentmentTotal}::numeric, ${order.originalTotal}::numeric, ${order.tags}::text[],
             ${order.isTest}::boolean
      from c
      on conflict (workspace_id, shopify_order_id) where shopify_order_id is not null do nothing
      returning id, contact_id
    ),
    lines as (${insertLinesOf(tx, tx`o`, lines)}),
    review as (
      insert into contact_reviews (workspace_id, order_id, contact_id, candidate_contact_id, reasons, score)
      select app.current_workspace_id(), o.id, o.contact_id, ${review?.candidateContactId ?? null}::uuid,
             ${review?.reasons ?? []}::text[], ${score}
      from o
      where ${review?.candidateContactId ?? null}::uuid is not null
    )
    select (select id from o) as "orderId", (select id from c) as "contactId"`;
  return { orderId: row?.orderId ?? null, contactId: row?.contactId ?? null };
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
