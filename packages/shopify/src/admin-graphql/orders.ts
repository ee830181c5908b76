/**
 * GraphQL Admin API order → the REST/webhook-shaped order JSON that packages/shopify parses.
 *
 * Webhooks deliver REST-shaped orders (snake_case, numeric ids); reconciliation reads orders through
 * GraphQL (camelCase, `gid://` ids, money in MoneyBags). Everything downstream (contact resolution,
 * line matching, `applyShopifyOrder`) understands one shape, so GraphQL nodes are mapped here, in one
 * place, to that shape. Ids become digit strings (`legacyResourceId` is an UnsignedInt64 that GraphQL
 * already serialises as a string; line and shipping ids come from the tail of their gid), so ids above
 * 2^53 never pass through a JS number.
 *
 * The query documents below select exactly what the mapping reads; the fake Shopify answers them.
 * Line items' product_id / variant_id are not fetched: nothing downstream reads them (lines match
 * products by sku, title or price) and each would cost query points on every line.
 */
import { z } from 'zod';

// --- The GraphQL documents ----------------------------------------------------------------------

const ADDRESS = `firstName lastName name company address1 address2 city province provinceCode country countryCodeV2 zip phone`;
const MONEY = `shopMoney { amount currencyCode }`;

export const LINE_ITEM_FIELDS = `
  id sku title variantTitle name vendor quantity currentQuantity requiresShipping taxable
  originalUnitPriceSet { ${MONEY} }
  totalDiscountSet { ${MONEY} }
  discountAllocations { allocatedAmountSet { ${MONEY} } discountApplication { index } }
`;

export const ORDER_FIELDS = `
  id legacyResourceId name email phone
  createdAt updatedAt processedAt cancelledAt cancelReason closedAt
  currencyCode displayFinancialStatus displayFulfillmentStatus paymentGatewayNames
  tags note test taxesIncluded discountCodes
  customAttributes { key value }
  subtotalPriceSet { ${MONEY} presentmentMoney { amount currencyCode } }
  currentSubtotalPriceSet { ${MONEY} presentmentMoney { amount currencyCode } }
  totalPriceSet { ${MONEY} presentmentMoney { amount currencyCode } }
  currentTotalPriceSet { ${MONEY} presentmentMoney { amount currencyCode } }
  totalDiscountsSet { ${MONEY} }
  totalTaxSet { ${MONEY} }
  totalShippingPriceSet { ${MONEY} }
  customer {
    legacyResourceId firstName lastName
    defaultEmailAddress { emailAddress }
    defaultPhoneNumber { phoneNumber }
    defaultAddress { ${ADDRESS} }
  }
  billingAddress { ${ADDRESS} }
  shippingAddress { ${ADDRESS} }
  lineItems(first: $lines) { nodes { ${LINE_ITEM_FIELDS} } pageInfo { hasNextPage endCursor } }
  shippingLines(first: 5) { nodes { id title code source originalPriceSet { ${MONEY} } discountedPriceSet { ${MONEY} } } }
`;

/** One page of orders updated since a date, oldest update first. */
export const ORDERS_PAGE_QUERY = `query ReconcileOrders($first: Int!, $after: String, $query: String!, $lines: Int!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes { ${ORDER_FIELDS} }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** The rest of an order's line items when it has more than fit in the page query. */
export const ORDER_LINE_ITEMS_QUERY = `query OrderLineItems($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    lineItems(first: $first, after: $after) { nodes { ${LINE_ITEM_FIELDS} } pageInfo { hasNextPage endCursor } }
  }
}`;

// --- The GraphQL shapes ---------------------------------------------------------------------------

const str = z.string().nullable().optional();
const digits = z.string().regex(/^[0-9]+$/, 'an id of digits');
const moneyBag = z.object({
  shopMoney: z.object({ amount: z.string(), currencyCode: z.string().optional() }),
  presentmentMoney: z
    .object({ amount: z.string(), currencyCode: z.string().optional() })
    .nullable()
    .optional(),
});

export const gqlAddressSchema = z.object({
  firstName: str,
  lastName: str,
  name: str,
  company: str,
  address1: str,
  address2: str,
  city: str,
  province: str,
  provinceCode: str,
  country: str,
  countryCodeV2: str,
  zip: str,
  phone: str,
});

export const gqlLineItemSchema = z.object({
  id: z.string(),
  sku: str,
  title: z.string(),
  variantTitle: str,
  name: str,
  vendor: str,
  quantity: z.number().int(),
  /** Units left after refunds and removals. */
  currentQuantity: z.number().int().nullable().optional(),
  requiresShipping: z.boolean().optional(),
  taxable: z.boolean().optional(),
  originalUnitPriceSet: moneyBag,
  totalDiscountSet: moneyBag.nullable().optional(),
  discountAllocations: z
    .array(
      z.object({
        allocatedAmountSet: moneyBag,
        discountApplication: z.object({ index: z.number().int() }).nullable().optional(),
      }),
    )
    .default([]),
});

const pageInfoSchema = z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() });

export const gqlLineItemConnectionSchema = z.object({
  nodes: z.array(gqlLineItemSchema),
  pageInfo: pageInfoSchema,
});

export const gqlOrderSchema = z.object({
  id: z.string(),
  legacyResourceId: digits,
  name: z.string(),
  email: str,
  phone: str,
  createdAt: z.string(),
  updatedAt: z.string(),
  processedAt: str,
  cancelledAt: str,
  cancelReason: str,
  closedAt: str,
  currencyCode: z.string(),
  displayFinancialStatus: str,
  displayFulfillmentStatus: str,
  paymentGatewayNames: z.array(z.string()).default([]),
  tags: z.array(z.string()).default([]),
  note: str,
  test: z.boolean().optional(),
  taxesIncluded: z.boolean().optional(),
  discountCodes: z.array(z.string()).default([]),
  customAttributes: z.array(z.object({ key: z.string(), value: z.string().nullable() })).default([]),
  subtotalPriceSet: moneyBag.nullable().optional(),
  /** The goods now: after discounts, order edits, returns and refunds; before shipping and taxes. */
  currentSubtotalPriceSet: moneyBag.nullable().optional(),
  totalPriceSet: moneyBag,
  currentTotalPriceSet: moneyBag.nullable().optional(),
  totalDiscountsSet: moneyBag.nullable().optional(),
  totalTaxSet: moneyBag.nullable().optional(),
  totalShippingPriceSet: moneyBag.nullable().optional(),
  customer: z
    .object({
      legacyResourceId: digits,
      firstName: str,
      lastName: str,
      defaultEmailAddress: z.object({ emailAddress: str }).nullable().optional(),
      defaultPhoneNumber: z.object({ phoneNumber: str }).nullable().optional(),
      defaultAddress: gqlAddressSchema.nullable().optional(),
    })
    .nullable()
    .optional(),
  billingAddress: gqlAddressSchema.nullable().optional(),
  shippingAddress: gqlAddressSchema.nullable().optional(),
  lineItems: gqlLineItemConnectionSchema,
  shippingLines: z
    .object({
      nodes: z.array(
        z.object({
          id: z.string().nullable().optional(),
          title: z.string(),
          code: str,
          source: str,
          originalPriceSet: moneyBag,
          discountedPriceSet: moneyBag.nullable().optional(),
        }),
      ),
    })
    .nullable()
    .optional(),
});

export type GqlOrder = z.infer<typeof gqlOrderSchema>;
export type GqlAddress = z.infer<typeof gqlAddressSchema>;
export type GqlLineItem = z.infer<typeof gqlLineItemSchema>;

export const ordersPageDataSchema = z.object({
  orders: z.object({ nodes: z.array(gqlOrderSchema), pageInfo: pageInfoSchema }),
});
export const orderLineItemsDataSchema = z.object({
  order: z.object({ lineItems: gqlLineItemConnectionSchema }).nullable(),
});

// --- The REST shape -------------------------------------------------------------------------------

export type RestAddress = {
  first_name: string | null;
  last_name: string | null;
  name: string | null;
  company: string | null;
  address1: string | null;
  address2: string | null;
  city: string | null;
  province: string | null;
  province_code: string | null;
  country: string | null;
  country_code: string | null;
  zip: string | null;
  phone: string | null;
};

type RestMoney = { amount: string; currency_code: string | null };
export type RestMoneySet = { shop_money: RestMoney; presentment_money: RestMoney | null };

export type RestLineItem = {
  id: string;
  admin_graphql_api_id: string;
  sku: string | null;
  title: string;
  variant_title: string | null;
  name: string;
  vendor: string | null;
  quantity: number;
  current_quantity: number | null;
  price: string;
  total_discount: string;
  discount_allocations: { amount: string; discount_application_index: number | null }[];
  requires_shipping: boolean;
  taxable: boolean;
};

export type RestOrderJson = {
  id: string;
  admin_graphql_api_id: string;
  name: string;
  order_number: number | null;
  email: string | null;
  phone: string | null;
  created_at: string;
  updated_at: string;
  processed_at: string | null;
  cancelled_at: string | null;
  cancel_reason: string | null;
  closed_at: string | null;
  currency: string;
  financial_status: string | null;
  fulfillment_status: string | null;
  gateway: string | null;
  payment_gateway_names: string[];
  subtotal_price: string;
  subtotal_price_set: RestMoneySet | null;
  current_subtotal_price: string | null;
  current_subtotal_price_set: RestMoneySet | null;
  total_discounts: string;
  total_price: string;
  total_price_set: RestMoneySet;
  current_total_price_set: RestMoneySet | null;
  total_tax: string;
  taxes_included: boolean;
  test: boolean;
  tags: string;
  note: string | null;
  note_attributes: { name: string; value: string }[];
  discount_codes: { code: string }[];
  customer: {
    id: string;
    email: string | null;
    first_name: string | null;
    last_name: string | null;
    phone: string | null;
    default_address: RestAddress | null;
  } | null;
  billing_address: RestAddress | null;
  shipping_address: RestAddress | null;
  line_items: RestLineItem[];
  shipping_lines: {
    id: string | null;
    title: string;
    code: string | null;
    source: string | null;
    price: string;
    discounted_price: string;
  }[];
};

// --- The mapping ------------------------------------------------------------------------------------

/** The numeric tail of a gid (`gid://shopify/LineItem/15012345678901234` → `15012345678901234`). */
export function gidToId(gid: string): string {
  const m = /\/(\d+)(?:\?.*)?$/.exec(gid);
  if (!m?.[1]) throw new Error(`not a Shopify global id with a numeric tail: ${gid}`);
  return m[1];
}

const amount = (bag: { shopMoney: { amount: string } } | null | undefined, fallback = '0.00'): string =>
  bag?.shopMoney.amount ?? fallback;
const orNull = (v: string | null | undefined): string | null => v ?? null;

type GqlMoney = { amount: string; currencyCode?: string | undefined };
const restMoney = (m: GqlMoney): RestMoney => ({ amount: m.amount, currency_code: m.currencyCode ?? null });
/** A MoneyBag as REST's *_set: the customer's currency (presentment) is what a multi-currency order shows. */
function moneySet(bag: {
  shopMoney: GqlMoney;
  presentmentMoney?: GqlMoney | null | undefined;
}): RestMoneySet {
  return {
    shop_money: restMoney(bag.shopMoney),
    presentment_money: bag.presentmentMoney ? restMoney(bag.presentmentMoney) : null,
  };
}

function mapAddress(a: GqlAddress | null | undefined): RestAddress | null {
  if (!a) return null;
  return {
    first_name: orNull(a.firstName),
    last_name: orNull(a.lastName),
    name: a.name ?? ([a.firstName, a.lastName].filter(Boolean).join(' ') || null),
    company: orNull(a.company),
    address1: orNull(a.address1),
    address2: orNull(a.address2),
    city: orNull(a.city),
    province: orNull(a.province),
    province_code: orNull(a.provinceCode),
    country: orNull(a.country),
    country_code: orNull(a.countryCodeV2),
    zip: orNull(a.zip),
    phone: orNull(a.phone),
  };
}

export function mapLineItem(line: GqlLineItem): RestLineItem {
  return {
    id: gidToId(line.id),
    admin_graphql_api_id: line.id,
    sku: orNull(line.sku),
    title: line.title,
    variant_title: orNull(line.variantTitle),
    name: line.name ?? line.title,
    vendor: orNull(line.vendor),
    quantity: line.quantity,
    current_quantity: line.currentQuantity ?? null,
    price: amount(line.originalUnitPriceSet),
    total_discount: amount(line.totalDiscountSet),
    discount_allocations: line.discountAllocations.map((d) => ({
      amount: amount(d.allocatedAmountSet),
      discount_application_index: d.discountApplication?.index ?? null,
    })),
    requires_shipping: line.requiresShipping ?? true,
    taxable: line.taxable ?? true,
  };
}

/** GraphQL enums → REST strings: `PARTIALLY_PAID` → `partially_paid`. */
const lower = (v: string | null | undefined): string | null => (v ? v.toLowerCase() : null);

const FULFILLMENT: Record<string, string | null> = {
  UNFULFILLED: null,
  PARTIALLY_FULFILLED: 'partial',
  FULFILLED: 'fulfilled',
  RESTOCKED: 'restocked',
};

/**
 * Maps one GraphQL order node to the REST shape. `lineItems` are the order's complete line items when
 * the caller fetched more pages of them; otherwise the node's own first page is used.
 */
export function graphqlOrderToRest(
  node: GqlOrder,
  lineItems: GqlLineItem[] = node.lineItems.nodes,
): RestOrderJson {
  const numberMatch = /^#?(\d+)$/.exec(node.name);
  const customer = node.customer;
  return {
    id: node.legacyResourceId,
    admin_graphql_api_id: node.id,
    name: node.name,
    order_number: numberMatch?.[1] ? Number(numberMatch[1]) : null,
    email: orNull(node.email),
    phone: orNull(node.phone),
    created_at: node.createdAt,
    updated_at: node.updatedAt,
    processed_at: orNull(node.processedAt),
    cancelled_at: orNull(node.cancelledAt),
    cancel_reason: lower(node.cancelReason),
    closed_at: orNull(node.closedAt),
    currency: node.currencyCode,
    financial_status: lower(node.displayFinancialStatus),
    fulfillment_status: node.displayFulfillmentStatus
      ? FULFILLMENT[node.displayFulfillmentStatus] !== undefined
        ? (FULFILLMENT[node.displayFulfillmentStatus] ?? null)
        : node.displayFulfillmentStatus.toLowerCase()
      : null,
    gateway: node.paymentGatewayNames[0] ?? null,
    payment_gateway_names: node.paymentGatewayNames,
    subtotal_price: amount(node.subtotalPriceSet),
    subtotal_price_set: node.subtotalPriceSet ? moneySet(node.subtotalPriceSet) : null,
    current_subtotal_price: node.currentSubtotalPriceSet ? amount(node.currentSubtotalPriceSet) : null,
    current_subtotal_price_set: node.currentSubtotalPriceSet ? moneySet(node.currentSubtotalPriceSet) : null,
    total_discounts: amount(node.totalDiscountsSet),
    total_price: amount(node.totalPriceSet),
    total_price_set: moneySet(node.totalPriceSet),
    current_total_price_set: node.currentTotalPriceSet ? moneySet(node.currentTotalPriceSet) : null,
    total_tax: amount(node.totalTaxSet),
    taxes_included: node.taxesIncluded ?? false,
    test: node.test ?? false,
    tags: node.tags.join(', '),
    note: orNull(node.note),
    note_attributes: node.customAttributes.map((a) => ({ name: a.key, value: a.value ?? '' })),
    discount_codes: node.discountCodes.map((code) => ({ code })),
    customer: customer
      ? {
          id: customer.legacyResourceId,
          email: orNull(customer.defaultEmailAddress?.emailAddress),
          first_name: orNull(customer.firstName),
          last_name: orNull(customer.lastName),
          phone: orNull(customer.defaultPhoneNumber?.phoneNumber),
          default_address: mapAddress(customer.defaultAddress),
        }
      : null,
    billing_address: mapAddress(node.billingAddress),
    shipping_address: mapAddress(node.shippingAddress),
    line_items: lineItems.map(mapLineItem),
    shipping_lines: (node.shippingLines?.nodes ?? []).map((s) => ({
      id: s.id ? gidToId(s.id) : null,
      title: s.title,
      code: orNull(s.code),
      source: orNull(s.source),
      price: amount(s.originalPriceSet),
      discounted_price: amount(s.discountedPriceSet, amount(s.originalPriceSet)),
    })),
  };
}
