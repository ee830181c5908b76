import { z } from 'zod';
import { formatMoney, parseMoney } from './money.ts';
import { REDACTED } from './redact.ts';
import { storableText } from './text.ts';

/**
 * Schemas of the webhook bodies, tolerant of what Shopify really sends — null, "", missing blocks,
 * numbers where strings are usual — and strict about what an order cannot do without (its id, its
 * line items, their quantities and prices). Parse the raw body with parseJsonLossless first (see
 * parse.ts): ids exceed 2^53.
 *
 * Outputs are normalised: ids are strings of digits, money is a decimal string with two decimals
 * ("59950.00"), empty text is null, absent blocks are null and absent lists are [].
 */

const fail = (ctx: z.RefinementCtx, message: string): never => {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
};

/**
 * Text that may be absent, null, "" or a number (zip codes): trimmed string or null. What PostgreSQL
 * cannot store in text (NUL, unpaired surrogates) is taken out here, at the boundary: see storableText.
 * "[redacted]" (what a customers/redact left of a stored payload) is absent too, so an event
 * processed after its redaction never makes a contact called, or reached at, "[redacted]".
 */
const text = z
  .union([z.string(), z.number()], { error: 'expected text' })
  .nullish()
  .transform((v) => {
    const t = v == null ? '' : storableText(String(v)).trim();
    return t === '' || t === REDACTED ? null : t;
  });

const GID = /^gid:\/\/shopify\/\w+\/(\d+)$/;

/** A Shopify id as a string of digits, whether the JSON had it as a number, a string or a bigint. */
const idValue = z
  .union([z.string(), z.number(), z.bigint()], { error: 'expected a Shopify id' })
  .transform((v, ctx) => {
    if (typeof v === 'number' && !Number.isSafeInteger(v)) {
      return fail(
        ctx,
        'expected a Shopify id (a number beyond 2^53 has lost digits: parse with parseJsonLossless)',
      );
    }
    const s = String(v).trim();
    return /^\d{1,20}$/.test(s) ? s : fail(ctx, 'expected a Shopify id (digits)');
  });

const optionalId = idValue.nullish().transform((v) => v ?? null);

/**
 * Takes the id from admin_graphql_api_id ("gid://shopify/Order/6114532901234567891") when there is one:
 * it is a string, so it survives even a payload that went through JSON.parse somewhere.
 */
const withGidId = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => {
    if (typeof v !== 'object' || v === null || !('admin_graphql_api_id' in v)) return v;
    const digits = GID.exec(String(v.admin_graphql_api_id))?.[1];
    return digits ? { ...v, id: digits } : v;
  }, schema);

function toMoney(v: string | number, ctx: z.RefinementCtx): string {
  try {
    return formatMoney(parseMoney(v));
  } catch {
    return fail(ctx, 'expected a decimal amount');
  }
}
const moneyValue = z
  .union([z.string(), z.number()], { error: 'expected a decimal amount' })
  .transform(toMoney);
/** A price: a decimal amount that is not negative (Shopify never charges less than nothing for a unit). */
const priceValue = moneyValue.refine((v) => !v.startsWith('-'), {
  error: (issue) => `a negative price (${String(issue.input)}) is not a price Shopify charges`,
});
const optionalMoney = z
  .union([z.string(), z.number()], { error: 'expected a decimal amount' })
  .nullish()
  .transform((v, ctx) => (v == null || String(v).trim() === '' ? null : toMoney(v, ctx)));

const timestamp = text.refine((v) => v === null || !Number.isNaN(Date.parse(v)), 'expected a date-time');

const MAX_INT4 = 2_147_483_647;
const quantity = z
  .union([z.number(), z.string()], { error: 'expected a positive integer' })
  .transform((v, ctx) => {
    const n = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(v) ? Number(v) : Number.NaN;
    return Number.isInteger(n) && n > 0 && n <= MAX_INT4 ? n : fail(ctx, 'expected a positive integer');
  });

/** A count that may be zero (current_quantity of a refunded line, a refund's quantity). */
const count = z
  .union([z.number(), z.string()], { error: 'expected a whole number' })
  .nullish()
  .transform((v, ctx) => {
    if (v == null || v === '') return null;
    const n = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(v) ? Number(v) : Number.NaN;
    return Number.isInteger(n) && n >= 0 && n <= MAX_INT4 ? n : fail(ctx, 'expected a whole number');
  });

const list = <T extends z.ZodType>(item: T, what: string) =>
  z
    .array(item, { error: `expected a list of ${what}` })
    .nullish()
    .transform((v) => v ?? []);

const block = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? null);

const allocation = z.object({ amount: moneyValue }, { error: 'expected a discount allocation' });

export const shopifyAddressSchema = z.object(
  {
    first_name: text,
    last_name: text,
    name: text,
    company: text,
    address1: text,
    address2: text,
    city: text,
    province: text,
    province_code: text,
    country: text,
    country_code: text,
    zip: text,
    phone: text,
  },
  { error: 'expected an address' },
);
export type ShopifyAddress = z.infer<typeof shopifyAddressSchema>;

export const shopifyCustomerSchema = withGidId(
  z.object(
    {
      id: optionalId,
      admin_graphql_api_id: text,
      email: text,
      first_name: text,
      last_name: text,
      phone: text,
      default_address: block(shopifyAddressSchema),
    },
    { error: 'expected a customer' },
  ),
);
export type ShopifyCustomer = z.infer<typeof shopifyCustomerSchema>;

export const shopifyLineItemSchema = withGidId(
  z.object(
    {
      id: idValue,
      admin_graphql_api_id: text,
      product_id: optionalId,
      variant_id: optionalId,
      sku: text,
      title: text,
      variant_title: text,
      name: text,
      vendor: text,
      quantity,
      /** What is left of quantity after refunds and removals (newer API versions). */
      current_quantity: count,
      price: priceValue,
      total_discount: optionalMoney,
      discount_allocations: list(allocation, 'discount allocations'),
    },
    { error: 'expected a line item' },
  ),
);
export type ShopifyLineItem = z.infer<typeof shopifyLineItemSchema>;

const noteAttribute = z.object({ name: text, value: text }, { error: 'expected a note attribute' });
const shippingLine = z.object(
  {
    title: text,
    code: text,
    price: optionalMoney,
    discounted_price: optionalMoney,
    discount_allocations: list(allocation, 'discount allocations'),
  },
  { error: 'expected a shipping line' },
);

/** A `*_set` amount: { shop_money, presentment_money }, each { amount, currency_code }. */
const moneyPart = block(
  z.object({ amount: optionalMoney, currency_code: text }, { error: 'expected money' }),
);
const moneySet = block(
  z.object({ shop_money: moneyPart, presentment_money: moneyPart }, { error: 'expected a money set' }),
);

/** A refund's line: how many units of which line, and the goods amount refunded for them (after discounts). */
const refundLineItem = z.object(
  { line_item_id: idValue, quantity: count, subtotal: optionalMoney },
  { error: 'expected a refund line item' },
);
/**
 * Money a refund returned outside its lines: `shipping_refund` (negative: shipping given back) or
 * `refund_discrepancy` (the refund differs from what its lines are worth).
 */
const orderAdjustment = z.object(
  { amount: optionalMoney, kind: text },
  { error: 'expected an order adjustment' },
);
const refund = z.object(
  {
    id: optionalId,
    created_at: timestamp,
    refund_line_items: list(refundLineItem, 'refund line items'),
    order_adjustments: list(orderAdjustment, 'order adjustments'),
  },
  { error: 'expected a refund' },
);

/** REST's discount_codes: `type` is fixed_amount, percentage or shipping. */
const discountCode = z.object(
  { code: text, amount: optionalMoney, type: text },
  { error: 'expected a discount code' },
);
/** REST's discount_applications: what each discount targets (line_item or shipping_line) and its value. */
const discountApplication = z.object(
  { target_type: text, value: optionalMoney, value_type: text, allocation_method: text },
  { error: 'expected a discount application' },
);

export const shopifyOrderSchema = withGidId(
  z.object(
    {
      id: idValue,
      admin_graphql_api_id: text,
      name: text,
      order_number: optionalId,
      email: text,
      contact_email: text,
      phone: text,
      created_at: timestamp,
      updated_at: timestamp,
      processed_at: timestamp,
      cancelled_at: timestamp,
      cancel_reason: text,
      closed_at: timestamp,
      currency: text,
      presentment_currency: text,
      financial_status: text,
      fulfillment_status: text,
      gateway: text,
      payment_gateway_names: list(text, 'payment gateway names'),
      subtotal_price: optionalMoney,
      total_price: optionalMoney,
      total_discounts: optionalMoney,
      total_tax: optionalMoney,
      current_subtotal_price: optionalMoney,
      current_total_price: optionalMoney,
      total_price_set: moneySet,
      current_total_price_set: moneySet,
      subtotal_price_set: moneySet,
      current_subtotal_price_set: moneySet,
      discount_codes: list(discountCode, 'discount codes'),
      discount_applications: list(discountApplication, 'discount applications'),
      refunds: list(refund, 'refunds'),
      tags: text,
      test: z
        .boolean({ error: 'expected true or false' })
        .nullish()
        .transform((v) => v ?? false),
      note: text,
      note_attributes: list(noteAttribute, 'note attributes'),
      customer: block(shopifyCustomerSchema),
      billing_address: block(shopifyAddressSchema),
      shipping_address: block(shopifyAddressSchema),
      line_items: z.array(shopifyLineItemSchema, { error: 'expected a list of line items' }),
      shipping_lines: list(shippingLine, 'shipping lines'),
    },
    { error: 'expected an order object' },
  ),
);
export type ShopifyOrder = z.infer<typeof shopifyOrderSchema>;

// The compliance topics and app/uninstalled: https://shopify.dev/docs/apps/build/privacy-law-compliance
const complianceCustomer = block(
  z.object({ id: optionalId, email: text, phone: text }, { error: 'expected a customer' }),
);

/** app/uninstalled: the shop resource. Only its domain matters; everything may be missing. */
export const appUninstalledSchema = z.object(
  { id: optionalId, name: text, email: text, domain: text, myshopify_domain: text },
  { error: 'expected a shop object' },
);
export type AppUninstalled = z.infer<typeof appUninstalledSchema>;

export const customersRedactSchema = z.object(
  {
    shop_id: optionalId,
    shop_domain: text,
    customer: complianceCustomer,
    orders_to_redact: list(idValue, 'order ids'),
  },
  { error: 'expected a customers/redact object' },
);
export type CustomersRedact = z.infer<typeof customersRedactSchema>;

export const shopRedactSchema = z.object(
  { shop_id: optionalId, shop_domain: text },
  { error: 'expected a shop/redact object' },
);
export type ShopRedact = z.infer<typeof shopRedactSchema>;

export const customersDataRequestSchema = z.object(
  {
    shop_id: optionalId,
    shop_domain: text,
    customer: complianceCustomer,
    orders_requested: list(idValue, 'order ids'),
    data_request: block(z.object({ id: optionalId }, { error: 'expected a data request' })),
  },
  { error: 'expected a customers/data_request object' },
);
export type CustomersDataRequest = z.infer<typeof customersDataRequestSchema>;
