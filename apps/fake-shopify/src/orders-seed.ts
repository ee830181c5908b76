/**
 * Orders for the fake: GraphQL order nodes built from REST/webhook order JSON (the fixtures), as
 * Shopify's GraphQL Admin API would answer for the same order.
 */
import { readFileSync } from 'node:fs';
import { parseJsonLossless } from '@crm/shopify';
import type { GqlLineItem, GqlOrder } from '@crm/shopify/admin-graphql';
import { z } from 'zod';

// --- REST → GraphQL, for seeding the fake from webhook fixtures -----------------------------------

const id = z.union([z.string().regex(/^\d+$/), z.number().int()]).transform(String);
const s = z.string().nullable().optional();
const restAddress = z
  .object({
    first_name: s,
    last_name: s,
    name: s,
    company: s,
    address1: s,
    address2: s,
    city: s,
    province: s,
    province_code: s,
    country: s,
    country_code: s,
    zip: s,
    phone: s,
  })
  .nullable()
  .optional();
const restOrderInput = z.object({
  id,
  name: z.string(),
  email: s,
  phone: s,
  created_at: z.string(),
  updated_at: z.string(),
  processed_at: s,
  cancelled_at: s,
  cancel_reason: s,
  closed_at: s,
  currency: z.string(),
  financial_status: s,
  fulfillment_status: s,
  payment_gateway_names: z.array(z.string()).optional(),
  gateway: s,
  subtotal_price: s,
  total_price: z.string(),
  total_discounts: s,
  total_tax: s,
  taxes_included: z.boolean().optional(),
  test: z.boolean().optional(),
  tags: s,
  note: s,
  note_attributes: z.array(z.object({ name: z.string(), value: z.string().nullable() })).optional(),
  discount_codes: z.array(z.object({ code: z.string() })).optional(),
  customer: z
    .object({
      id,
      email: s,
      first_name: s,
      last_name: s,
      phone: s,
      default_address: restAddress,
    })
    .nullable()
    .optional(),
  billing_address: restAddress,
  shipping_address: restAddress,
  line_items: z.array(
    z.object({
      id,
      sku: s,
      title: z.string(),
      variant_title: s,
      name: s,
      vendor: s,
      quantity: z.number().int(),
      price: z.string(),
      total_discount: s,
      discount_allocations: z
        .array(z.object({ amount: z.string(), discount_application_index: z.number().int().optional() }))
        .optional(),
      requires_shipping: z.boolean().optional(),
      taxable: z.boolean().optional(),
    }),
  ),
  shipping_lines: z
    .array(
      z.object({
        id: id.optional(),
        title: z.string(),
        code: s,
        source: s,
        price: z.string(),
        discounted_price: s,
      }),
    )
    .optional(),
});
export type RestOrderInput = z.input<typeof restOrderInput>;

const money = (amount: string | null | undefined, currencyCode: string) => ({
  shopMoney: { amount: amount ?? '0.00', currencyCode },
});

function gqlAddress(a: z.infer<typeof restAddress>): GqlOrder['billingAddress'] {
  if (!a) return null;
  return {
    firstName: a.first_name ?? null,
    lastName: a.last_name ?? null,
    name: a.name ?? null,
    company: a.company ?? null,
    address1: a.address1 ?? null,
    address2: a.address2 ?? null,
    city: a.city ?? null,
    province: a.province ?? null,
    provinceCode: a.province_code ?? null,
    country: a.country ?? null,
    countryCodeV2: a.country_code ?? null,
    zip: a.zip ?? null,
    phone: a.phone ?? null,
  };
}

/** Exact sum of non-negative decimal strings with up to 2 decimals. */
function sumMoney(values: string[]): string {
  let cents = 0n;
  for (const v of values) {
    const [whole = '0', fraction = ''] = v.split('.');
    cents += BigInt(whole || '0') * 100n + BigInt(`${fraction}00`.slice(0, 2));
  }
  return `${cents / 100n}.${(cents % 100n).toString().padStart(2, '0')}`;
}

const FULFILLMENT_ENUM: Record<string, string> = {
  partial: 'PARTIALLY_FULFILLED',
  fulfilled: 'FULFILLED',
  restocked: 'RESTOCKED',
};

/**
 * A GraphQL order node from REST/webhook order JSON (parse text with raw big ids
 * with parseJsonLossless). What Shopify's GraphQL would answer for the same order.
 */
export function orderFromRest(input: unknown): GqlOrder {
  const o = restOrderInput.parse(input);
  const cur = o.currency;
  const lines: GqlLineItem[] = o.line_items.map((l) => ({
    id: `gid://shopify/LineItem/${l.id}`,
    sku: l.sku ?? null,
    title: l.title,
    variantTitle: l.variant_title ?? null,
    name: l.name ?? l.title,
    vendor: l.vendor ?? null,
    quantity: l.quantity,
    requiresShipping: l.requires_shipping ?? true,
    taxable: l.taxable ?? true,
    originalUnitPriceSet: money(l.price, cur),
    totalDiscountSet: money(l.total_discount, cur),
    discountAllocations: (l.discount_allocations ?? []).map((d) => ({
      allocatedAmountSet: money(d.amount, cur),
      discountApplication:
        d.discount_application_index !== undefined ? { index: d.discount_application_index } : null,
    })),
  }));
  return {
    id: `gid://shopify/Order/${o.id}`,
    legacyResourceId: o.id,
    name: o.name,
    email: o.email ?? null,
    phone: o.phone ?? null,
    createdAt: o.created_at,
    updatedAt: o.updated_at,
    processedAt: o.processed_at ?? null,
    cancelledAt: o.cancelled_at ?? null,
    cancelReason: o.cancel_reason ? o.cancel_reason.toUpperCase() : null,
    closedAt: o.closed_at ?? null,
    currencyCode: cur,
    displayFinancialStatus: o.financial_status ? o.financial_status.toUpperCase() : null,
    displayFulfillmentStatus: o.fulfillment_status
      ? (FULFILLMENT_ENUM[o.fulfillment_status] ?? o.fulfillment_status.toUpperCase())
      : 'UNFULFILLED',
    paymentGatewayNames: o.payment_gateway_names ?? (o.gateway ? [o.gateway] : []),
    tags: o.tags
      ? o.tags
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean)
      : [],
    note: o.note ?? null,
    test: o.test ?? false,
    taxesIncluded: o.taxes_included ?? false,
    discountCodes: (o.discount_codes ?? []).map((d) => d.code),
    customAttributes: (o.note_attributes ?? []).map((a) => ({ key: a.name, value: a.value })),
    subtotalPriceSet: money(o.subtotal_price, cur),
    totalPriceSet: money(o.total_price, cur),
    totalDiscountsSet: money(o.total_discounts, cur),
    totalTaxSet: money(o.total_tax, cur),
    totalShippingPriceSet: money(sumMoney((o.shipping_lines ?? []).map((l) => l.price)), cur),
    customer: o.customer
      ? {
          legacyResourceId: o.customer.id,
          firstName: o.customer.first_name ?? null,
          lastName: o.customer.last_name ?? null,
          defaultEmailAddress: o.customer.email ? { emailAddress: o.customer.email } : null,
          defaultPhoneNumber: o.customer.phone ? { phoneNumber: o.customer.phone } : null,
          defaultAddress: gqlAddress(o.customer.default_address),
        }
      : null,
    billingAddress: gqlAddress(o.billing_address),
    shippingAddress: gqlAddress(o.shipping_address),
    lineItems: { nodes: lines, pageInfo: { hasNextPage: false, endCursor: null } },
    shippingLines: {
      nodes: (o.shipping_lines ?? []).map((l) => ({
        id: l.id ? `gid://shopify/ShippingLine/${l.id}` : null,
        title: l.title,
        code: l.code ?? null,
        source: l.source ?? null,
        originalPriceSet: money(l.price, cur),
        discountedPriceSet: money(l.discounted_price ?? l.price, cur),
      })),
    },
  };
}

/** Reads a fixture of apps/fake-shopify/src/fixtures (REST/webhook JSON, raw big ids kept exact). */
export function readOrderFixture(
  name: 'orders-create.cod-co.json' | 'orders-create.legacy-us.json',
): unknown {
  return parseJsonLossless(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
}

/**
 * A copy of an order node with another id, name and update time (and line ids derived from the new
 * id), for building many distinct orders from one fixture.
 */
export function variantOfOrder(
  order: GqlOrder,
  changes: { id: string | bigint; name: string; updatedAt: string; createdAt?: string },
): GqlOrder {
  const newId = String(changes.id);
  return {
    ...structuredClone(order),
    id: `gid://shopify/Order/${newId}`,
    legacyResourceId: newId,
    name: changes.name,
    updatedAt: changes.updatedAt,
    createdAt: changes.createdAt ?? changes.updatedAt,
    processedAt: changes.createdAt ?? changes.updatedAt,
    lineItems: {
      nodes: order.lineItems.nodes.map((l, i) => ({
        ...structuredClone(l),
        // Distinct per order, above 2^53, below 2^64 like every Shopify id.
        id: `gid://shopify/LineItem/${10n ** 18n + (BigInt(newId) % 10n ** 15n) * 1000n + BigInt(i)}`,
      })),
      pageInfo: { hasNextPage: false, endCursor: null },
    },
  };
}
