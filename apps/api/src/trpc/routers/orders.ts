import { listOrders, type OrderListItem } from '@crm/db/owner';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { cursorSchema, decodeCursor, encodeCursor, iso, isoDate, isoOrNull } from '../schemas.ts';
import { router, workspaceProcedure } from '../trpc.ts';

export const orderSchema = z.object({
  id: z.uuid(),
  pipelineId: z.uuid(),
  stageId: z.uuid(),
  stageName: z.string(),
  integrationId: z.uuid().nullable(),
  contact: z
    .object({
      id: z.uuid(),
      name: z.string(),
      phone: z.string().nullable(),
      email: z.string().nullable(),
      city: z.string().nullable(),
    })
    .nullable(),
  /** Money as exact decimal strings ("59950.00"). */
  totalValue: z.string(),
  /** Before refunds (null when not known). totalValue is after every discount and refund. */
  originalTotal: z.string().nullable(),
  /** The shop's currency, of every amount of the order (ISO 4217); null for orders without one. */
  currency: z.string().nullable(),
  /** The customer's currency and what Shopify charges in it, when not the shop's. */
  presentmentCurrency: z.string().nullable(),
  presentmentTotal: z.string().nullable(),
  tags: z.array(z.string()),
  /** A Shopify test order. */
  isTest: z.boolean(),
  /** When a Shopify privacy request (customers/redact, shop/redact) erased the buyer's personal data. */
  redactedAt: isoDate.nullable(),
  description: z.string(),
  shippingAddress: z.string().nullable(),
  shippingCity: z.string().nullable(),
  shippingDepartment: z.string().nullable(),
  /** Shopify's order id, digits as a string (ids exceed 2^53). */
  shopifyOrderId: z.string().nullable(),
  shopifyOrderName: z.string().nullable(),
  financialStatus: z.string().nullable(),
  cancelledAt: isoDate.nullable(),
  createdAt: isoDate,
  updatedAt: isoDate,
  lines: z.array(
    z.object({
      id: z.uuid(),
      productId: z.uuid().nullable(),
      shopifyLineId: z.string().nullable(),
      sku: z.string(),
      title: z.string(),
      unitPrice: z.string(),
      /** Units left after refunds (0 for a line refunded whole). */
      quantity: z.number().int(),
      subtotal: z.string(),
      /** As ordered, before refunds (null when not known). */
      originalQuantity: z.number().int().nullable(),
      originalSubtotal: z.string().nullable(),
      /** False for a line no product matched (it keeps Shopify's sku, or SHOPIFY-<line id> without one). */
      matched: z.boolean(),
    }),
  ),
});

function orderView(o: OrderListItem): z.infer<typeof orderSchema> {
  return {
    id: o.id,
    pipelineId: o.pipelineId,
    stageId: o.stageId,
    stageName: o.stageName,
    integrationId: o.integrationId,
    contact: o.contact,
    totalValue: o.totalValue,
    originalTotal: o.originalTotal,
    currency: o.currency,
    presentmentCurrency: o.presentmentCurrency,
    presentmentTotal: o.presentmentTotal,
    tags: o.tags,
    isTest: o.isTest,
    redactedAt: isoOrNull(o.redactedAt),
    description: o.description,
    shippingAddress: o.shippingAddress,
    shippingCity: o.shippingCity,
    shippingDepartment: o.shippingDepartment,
    shopifyOrderId: o.shopifyOrderId,
    shopifyOrderName: o.shopifyOrderName,
    financialStatus: o.financialStatus,
    cancelledAt: isoOrNull(o.cancelledAt),
    createdAt: iso(o.createdAt),
    updatedAt: iso(o.updatedAt),
    lines: o.lines.map((l) => ({ ...l, matched: l.productId !== null })),
  };
}

export const ordersRouter = router({
  /** Orders newest first, filtered by pipeline and/or stage, with their lines; cursor-paginated. */
  list: workspaceProcedure
    .input(
      z.object({
        pipelineId: z.uuid().optional(),
        stageId: z.uuid().optional(),
        /** Shopify test orders: with the others (default), left out, or alone. */
        testOrders: z.enum(['include', 'exclude', 'only']).default('include'),
        cursor: cursorSchema.nullish(),
        limit: z.number().int().min(1).max(200).default(50),
      }),
    )
    .output(z.object({ items: z.array(orderSchema), nextCursor: z.string().nullable() }))
    .query(async ({ ctx, input }) => {
      const after = input.cursor ? decodeCursor(input.cursor) : null;
      if (input.cursor && !after) throw new TRPCError({ code: 'BAD_REQUEST', message: 'Invalid cursor.' });
      const rows = await listOrders(ctx.tx, {
        workspaceId: ctx.workspaceId,
        pipelineId: input.pipelineId,
        stageId: input.stageId,
        testOrders: input.testOrders,
        after: after ? { createdAt: after.ts, id: after.id } : undefined,
        limit: input.limit + 1,
      });
      const page = rows.slice(0, input.limit);
      const last = page[page.length - 1];
      return {
        items: page.map(orderView),
        nextCursor: rows.length > input.limit && last ? encodeCursor(last.cursorTs, last.id) : null,
      };
    }),
});
