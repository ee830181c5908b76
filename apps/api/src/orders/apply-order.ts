/**
 * Applies a Shopify order to the CRM, exactly once per (workspace, Shopify order id), whatever path it
 * comes by: a webhook job, its retry, a redelivery under a new webhook id, reconciliation.
 *
 * One transaction as `app_worker` for the integration's workspace:
 *   - a transaction-scoped advisory lock on the Shopify order serialises every writer of that order,
 *     and the unique (workspace_id, shopify_order_id) index stays the last word;
 *   - an order that exists: `orders/create` → `exists`; any other topic applies the Shopify-owned
 *     fields only when the payload's updated_at is newer (`updated` / `stale`), and a cancelled order
 *     moves to the pipeline's cancelled stage;
 *   - an order that does not: created (contact resolved, lines matched, placed in the configured
 *     stage) unless automatic creation is off (`skipped`).
 */
import {
  type ContactRow,
  findContactByPhoneOrEmail,
  findProductsForMatching,
  insertShopifyOrder,
  inWorkerTransaction,
  type MatchableProduct,
  type NewOrderLine,
  type NewShopifyOrder,
  type OrderPlacement,
  openShopifyOrder,
  type ShopifyOrderMoney,
  type StoredShopifyOrder,
  syncShopifyOrderLines,
  updateShopifyOrderIfNewer,
  type WorkerTx,
} from '@crm/db/worker';
import { type MappedOrder, mapOrder, redactedOrderDescription, type ShopifyOrder } from '@crm/shopify';
import type { AppDeps } from '../deps.ts';
import type { IntegrationSettings } from '../integration-config.ts';
import { ProcessingError } from './errors.ts';
import { contactAfterPhoneTaken, contactOf, resolveContact } from './resolve-contact.ts';

export type ApplyOrderOutcome = 'created' | 'updated' | 'stale' | 'exists' | 'skipped';

export type ApplyOrderResult = {
  orderId: string | null;
  outcome: ApplyOrderOutcome;
  /**
   * The order was redacted at Shopify's request (customers/redact): the delivery that brought it again
   * must not keep the customer's data in its stored payload either.
   */
  redacted?: boolean;
};

/**
 * The unique index said no although the advisory lock was held: someone inserted by another path.
 * The transaction must be rolled back (with any contact it created) and the order applied again, as
 * an update.
 */
export class OrderInsertedMeanwhile extends Error {}

const PLACEMENT_ERRORS: Record<Extract<OrderPlacement, { ok: false }>['reason'], string> = {
  no_pipeline: 'No pipeline is chosen for Shopify orders: choose one on the integration page, then replay.',
  pipeline_missing:
    'The pipeline chosen for Shopify orders no longer exists: choose another on the integration page, then replay.',
  no_stages: 'The pipeline chosen for Shopify orders has no stages: add one, then replay.',
};

/**
 * Creates the CRM order for a Shopify order (contact, lines, stage) or applies a newer update to it,
 * exactly once per (workspace, shopify order id). Used by the webhook worker and by reconciliation.
 * `topic` `orders/create` never updates an existing order; any other topic (orders/updated,
 * orders/paid, orders/cancelled, or reconciliation's) updates it if newer and creates it if missing.
 *
 * @throws ProcessingError (a problem of settings or data, in owner's words) or a database error.
 */
export async function applyShopifyOrder(
  deps: AppDeps,
  integration: IntegrationSettings,
  order: ShopifyOrder,
  options: { topic: string },
): Promise<ApplyOrderResult> {
  try {
    return await inWorkerTransaction(deps.sql, integration.workspaceId, (tx) =>
      applyInTransaction(tx, integration, order, options.topic),
    );
  } catch (error) {
    if (!(error instanceof OrderInsertedMeanwhile)) throw error;
    // Rolled back (with any contact it created); the order is there now: apply as an update.
    return inWorkerTransaction(deps.sql, integration.workspaceId, (tx) =>
      applyInTransaction(tx, integration, order, options.topic),
    );
  }
}

/**
 * applyShopifyOrder's work inside a transaction of the caller's (as app_worker for the integration's
 * workspace). Throws OrderInsertedMeanwhile when the caller must roll back and try again.
 *
 * Its first round trip is readForApply's (sent here unless the caller sent it ahead as `reads`):
 * wasted reads when the order exists already.
 */
export async function applyInTransaction(
  tx: WorkerTx,
  integration: IntegrationSettings,
  order: ShopifyOrder,
  topic: string,
  reads: OrderReads = readForApply(tx, integration, order, topic),
): Promise<ApplyOrderResult> {
  const [{ existing, placement }, found] = await reads;
  if (existing) {
    if (topic === 'orders/create')
      return { orderId: existing.id, outcome: 'exists', redacted: existing.redactedAt !== null };
    return applyUpdate(tx, integration, existing, order);
  }
  if (!integration.autoCreateOrders) return { orderId: null, outcome: 'skipped' };
  return createOrder(
    tx,
    integration,
    order,
    placement,
    found ?? (await findForCreation(tx, integration, order)),
  );
}

/** What applyInTransaction reads first (readForApply). */
export type OrderReads = Promise<[Awaited<ReturnType<typeof openShopifyOrder>>, FoundForCreation | null]>;

/**
 * applyInTransaction's first reads, sent now, in one round trip: the order's lock, the order and its
 * placement and — for an orders/create that may create — the products its lines name and the contact
 * its customer may be already. A caller may send them ahead, behind a statement of its own, and hand
 * them to applyInTransaction with the same integration, order and topic.
 */
export function readForApply(
  tx: WorkerTx,
  integration: IntegrationSettings,
  order: ShopifyOrder,
  topic: string,
): OrderReads {
  const creating = topic === 'orders/create' && integration.autoCreateOrders;
  return Promise.all([
    openShopifyOrder(tx, order.id, integration),
    creating ? findForCreation(tx, integration, order) : null,
  ]);
}

/** The order's customer's phone and email, or null when the order cannot be mapped. */
function customerOf(
  order: ShopifyOrder,
  integration: IntegrationSettings,
): { phone: string | null; email: string | null } | null {
  try {
    return contactOf(mapWith(order, integration, []), order);
  } catch {
    return null;
  }
}

/** `linked` undefined: not looked for (the order could not be mapped without its products). */
type FoundForCreation = { products: MatchableProduct[]; linked: ContactRow | null | undefined };

/** The products an order's lines may match and the contact its customer may be already: one round trip. */
async function findForCreation(
  tx: WorkerTx,
  integration: IntegrationSettings,
  order: ShopifyOrder,
): Promise<FoundForCreation> {
  // Read ahead of knowing whether the order exists: an order that cannot be mapped looks for no
  // contact here, and fails (or is found to exist) as it did before the reads were folded.
  const customer = customerOf(order, integration);
  const [products, linked] = await Promise.all([
    findProductsForMatching(tx, {
      strategy: integration.productMatching,
      skus: order.line_items.flatMap((l) => (l.sku ? [l.sku] : [])),
      titles: order.line_items.flatMap((l) => [l.title, l.name].filter((t): t is string => !!t)),
      prices: order.line_items.map((l) => l.price),
    }),
    customer ? findContactByPhoneOrEmail(tx, customer.phone, customer.email) : undefined,
  ]);
  return { products, linked };
}

function mapWith(
  order: ShopifyOrder,
  integration: IntegrationSettings,
  products: MappedOrderProducts,
): MappedOrder {
  return mapOrder(order, {
    products,
    strategy: integration.productMatching,
    defaultCountry: integration.defaultPhoneCountry,
  });
}
type MappedOrderProducts = Parameters<typeof mapOrder>[1]['products'];

const moneyOf = (mapped: MappedOrder): ShopifyOrderMoney => ({
  currency: mapped.currency,
  presentmentCurrency: mapped.presentmentCurrency,
  presentmentTotal: mapped.presentmentTotal,
  originalTotal: mapped.originalTotal,
  tags: mapped.tags,
  isTest: mapped.test,
});

const linesOf = (mapped: MappedOrder): NewOrderLine[] =>
  mapped.lines.map((l) => ({
    productId: l.productId,
    shopifyLineId: l.shopifyLineId,
    sku: l.sku,
    title: l.title,
    unitPrice: l.unitPrice,
    quantity: l.quantity,
    subtotal: l.subtotal,
    originalQuantity: l.originalQuantity,
    originalSubtotal: l.originalSubtotal,
  }));

async function applyUpdate(
  tx: WorkerTx,
  integration: IntegrationSettings,
  existing: StoredShopifyOrder,
  order: ShopifyOrder,
): Promise<ApplyOrderResult> {
  const mapped = mapWith(order, integration, []);
  // Without updated_at an update cannot be ordered against the others: it is not applied.
  // A redacted order keeps no personal data, whatever a later update or reconciliation brings.
  const redacted = existing.redactedAt !== null;
  if (!mapped.shopifyUpdatedAt) return { orderId: existing.id, outcome: 'stale', redacted };
  const updated = await updateShopifyOrderIfNewer(tx, existing.id, {
    financialStatus: mapped.financialStatus,
    cancelledAt: mapped.cancelledAt ? new Date(mapped.cancelledAt) : null,
    shopifyUpdatedAt: new Date(mapped.shopifyUpdatedAt),
    description: redacted ? redactedOrderDescription(mapped.description) : mapped.description,
    shippingAddress: redacted ? null : mapped.shippingAddress,
    shippingCity: redacted ? null : mapped.shippingCity,
    shippingDepartment: redacted ? null : mapped.shippingDepartment,
    stageId: mapped.cancelledAt ? existing.cancelledStageId : null,
    ...moneyOf(mapped),
  });
  // Refunds and order edits: the lines follow Shopify's current quantities and amounts.
  if (updated) await syncShopifyOrderLines(tx, existing.id, linesOf(mapped));
  return { orderId: existing.id, outcome: updated ? 'updated' : 'stale', redacted };
}

async function createOrder(
  tx: WorkerTx,
  integration: IntegrationSettings,
  order: ShopifyOrder,
  placement: OrderPlacement,
  found: FoundForCreation,
): Promise<ApplyOrderResult> {
  if (!placement.ok) throw new ProcessingError(PLACEMENT_ERRORS[placement.reason]);
  const mapped = mapWith(order, integration, found.products);
  const who = contactOf(mapped, order); // what the order says of its customer
  const linked =
    found.linked !== undefined ? found.linked : await findContactByPhoneOrEmail(tx, who.phone, who.email);
  const contact = await resolveContact(tx, integration, who, linked);
  const stageId = mapped.cancelledAt ? (placement.cancelledStageId ?? placement.stageId) : placement.stageId;
  const row = (contactId: string | null): NewShopifyOrder => ({
    integrationId: integration.id,
    contactId,
    pipelineId: placement.pipelineId,
    stageId,
    shopifyOrderId: mapped.shopifyOrderId,
    shopifyOrderName: mapped.shopifyOrderName,
    financialStatus: mapped.financialStatus,
    cancelledAt: mapped.cancelledAt ? new Date(mapped.cancelledAt) : null,
    shopifyUpdatedAt: mapped.shopifyUpdatedAt ? new Date(mapped.shopifyUpdatedAt) : null,
    description: mapped.description,
    shippingAddress: mapped.shippingAddress,
    shippingCity: mapped.shippingCity,
    shippingDepartment: mapped.shippingDepartment,
    ...moneyOf(mapped),
  });
  // In the same round trip as a linked contact's completion (contact.pending, sent before it); a new
  // contact with a phone is inserted by the same statement.
  let [inserted] = await Promise.all([
    insertShopifyOrder(tx, row(contact.id), linesOf(mapped), contact.review, contact.create),
    contact.pending,
  ]);
  if (contact.create && !inserted.contactId) {
    // Nothing was written: the phone is another contact's now. Link to it, then insert the order.
    const linked = await contactAfterPhoneTaken(tx, contact.create, contact.review);
    inserted = await insertShopifyOrder(tx, row(linked.id), linesOf(mapped), linked.review);
  }
  if (!inserted.orderId) throw new OrderInsertedMeanwhile();
  return { orderId: inserted.orderId, outcome: 'created' };
}
