import { divideRoundHalfUp, formatMoney, parseMoney } from './money.ts';
import { type LineAmounts, orderAmounts } from './order-amounts.ts';
import { pickOrderPhone, secondaryPhoneFromNoteAttributes } from './phone.ts';
import { type CatalogProduct, matchLineToProduct, type ProductMatchStrategy } from './products.ts';
import type { ShopifyAddress, ShopifyLineItem, ShopifyOrder } from './schemas.ts';

export type ContactDraft = {
  name: string;
  phone: string | null;
  email: string | null;
  address: string | null;
  city: string | null;
  department: string | null;
  secondaryPhone: string | null;
  /** customer.email when the order was placed under another email (order.email). */
  secondaryEmail: string | null;
};

export type MappedLine = {
  shopifyLineId: string;
  productId: string | null;
  sku: string;
  title: string;
  unitPrice: string;
  /** Units left after refunds and removals (Shopify's current_quantity): may be 0. */
  quantity: number;
  /** After every discount and refund: what is due for this line. */
  subtotal: string;
  /** Units and amount as ordered, before refunds. */
  originalQuantity: number;
  originalSubtotal: string;
  matched: boolean;
};

export type MappedOrder = {
  shopifyOrderId: string;
  shopifyOrderName: string;
  financialStatus: string | null;
  cancelledAt: string | null;
  shopifyUpdatedAt: string | null;
  description: string;
  shippingAddress: string | null;
  shippingCity: string | null;
  shippingDepartment: string | null;
  /** Goods after every discount and refund: the sum of the lines' subtotals. */
  totalValue: string;
  /** Goods after every discount, before refunds. */
  originalTotal: string;
  /** The shop's currency (order.currency), the currency of every amount above. */
  currency: string | null;
  /** The customer's currency and what Shopify charges in it now, when it is not the shop's. */
  presentmentCurrency: string | null;
  presentmentTotal: string | null;
  tags: string[];
  test: boolean;
  lines: MappedLine[];
  contact: ContactDraft;
  customerEmail: string | null;
};

const joinWords = (...parts: (string | null | undefined)[]) => parts.filter(Boolean).join(' ') || null;
const streetOf = (a: ShopifyAddress) => [a.address1, a.address2].filter(Boolean).join(', ') || null;
/** "2026-02-04T15:57:03-05:00" → "2026-02-04T20:57:03.000Z": comparable as text, whatever the offset. */
const toUtc = (s: string | null) => (s ? new Date(s).toISOString() : null);

function mapLine(
  line: ShopifyLineItem,
  amounts: LineAmounts,
  products: readonly CatalogProduct[],
  strategy: ProductMatchStrategy,
): MappedLine {
  const product = matchLineToProduct(line, products, strategy);
  return {
    shopifyLineId: line.id,
    productId: product?.id ?? null,
    // Shopify's sku on every line; the catalogue's when Shopify has none; a reference as a last resort.
    sku: line.sku || product?.sku || `SHOPIFY-${line.id}`,
    title: line.name ?? line.title ?? '',
    unitPrice: formatMoney(amounts.unit),
    quantity: amounts.quantity,
    subtotal: formatMoney(amounts.current),
    originalQuantity: amounts.originalQuantity,
    originalSubtotal: formatMoney(amounts.original),
    matched: product !== null,
  };
}

/**
 * The contact an order describes: name from the customer, else the shipping then billing address;
 * address, city and department (province) from the shipping address, else the billing address, else
 * the customer's default address; phone and secondary phone as in phone.ts.
 */
export function contactDraftFromOrder(order: ShopifyOrder, defaultCountry: string): ContactDraft {
  const { customer, shipping_address: shipping, billing_address: billing } = order;
  const addressName = (a: ShopifyAddress | null) => a && (a.name ?? joinWords(a.first_name, a.last_name));
  const email = order.email ?? customer?.email ?? order.contact_email;
  const customerEmail = customer?.email ?? null;
  const phone = pickOrderPhone(order, defaultCountry);
  const place =
    [shipping, billing, customer?.default_address].find((a) => a && (a.address1 || a.city)) ?? null;
  return {
    name:
      joinWords(customer?.first_name, customer?.last_name) ??
      addressName(shipping) ??
      addressName(billing) ??
      email ??
      phone ??
      '',
    phone,
    email,
    address: place && streetOf(place),
    city: place?.city ?? null,
    department: place?.province ?? null,
    secondaryPhone: secondaryPhoneFromNoteAttributes(order, defaultCountry, phone),
    secondaryEmail:
      customerEmail && email && customerEmail.toLowerCase() !== email.toLowerCase() ? customerEmail : null,
  };
}

/**
 * The lines of describe() that are facts about the order, not about its buyer: a redaction keeps
 * these and drops the rest (the note, the note attributes the buyer filled in).
 */
export const DESCRIPTION_FACT_PREFIXES = [
  'Shopify ',
  'Pago: ',
  'Cancelado: ',
  'Descuento del pedido',
  'Reembolsado: ',
  'Reembolsado fuera de las líneas',
  'Total Shopify: ',
] as const;

/** The line a redacted order's description ends with. */
export const REDACTED_ORDER_NOTE = 'Datos personales eliminados a pedido de Shopify (redact).';

/**
 * An order description without what the buyer wrote (note, note attributes): the facts about the
 * order, then REDACTED_ORDER_NOTE. What a redacted order keeps when Shopify updates it later.
 */
export function redactedOrderDescription(description: string): string {
  const facts = description
    .split('\n')
    .filter((line) => DESCRIPTION_FACT_PREFIXES.some((p) => line.startsWith(p)));
  return [...facts, REDACTED_ORDER_NOTE].join('\n');
}

/** Human-readable summary for the CRM order: reference, note, payment, Shopify's own totals. */
function describe(order: ShopifyOrder, total: string, amounts: ReturnType<typeof orderAmounts>): string {
  const currency = order.currency ? ` ${order.currency}` : '';
  const gateway = order.payment_gateway_names.join(', ') || order.gateway;
  const shipping = order.shipping_lines.reduce(
    (sum, s) => sum + parseMoney(s.discounted_price ?? s.price),
    0n,
  );
  const shippingTitles = order.shipping_lines
    .map((s) => s.title ?? s.code)
    .filter(Boolean)
    .join(', ');
  return [
    `Shopify ${order.name ?? `#${order.order_number ?? order.id}`}`,
    order.note && `Nota: ${order.note}`,
    ...order.note_attributes.filter((a) => a.name && a.value).map((a) => `${a.name}: ${a.value}`),
    `Pago: ${order.financial_status ?? 'desconocido'}${gateway ? ` (${gateway})` : ''}`,
    order.cancelled_at && `Cancelado: ${order.cancel_reason ?? order.cancelled_at}`,
    amounts.unallocatedDiscount > 0n &&
      `Descuento del pedido repartido entre las líneas: ${formatMoney(amounts.unallocatedDiscount)}${currency}`,
    amounts.current !== amounts.original &&
      `Reembolsado: ${formatMoney(amounts.original - amounts.current)}${currency} de ${formatMoney(amounts.original)}${currency}`,
    amounts.adjustments !== 0n &&
      `Reembolsado fuera de las líneas (envío, ajustes): ${formatMoney(amounts.adjustments)}${currency}`,
    `Total Shopify: ${order.current_total_price ?? order.total_price ?? total}${currency}` +
      (order.shipping_lines.length > 0
        ? `, envío ${formatMoney(shipping)}${currency}${shippingTitles ? ` (${shippingTitles})` : ''}`
        : ''),
  ]
    .filter(Boolean)
    .join('\n');
}

/**
 * The customer's currency and what the goods (`goods`, cents in the shop's currency) come to in it,
 * when Shopify charged in another currency than the shop's. Converted at Shopify's own rate for the
 * order: the presentment/shop ratio of current_subtotal_price_set, else subtotal_price_set, else
 * current_total_price_set, else total_price_set (so shipping and taxes never count as goods).
 */
function presentment(order: ShopifyOrder, goods: bigint): { currency: string | null; total: string | null } {
  const sets = [
    order.current_subtotal_price_set,
    order.subtotal_price_set,
    order.current_total_price_set,
    order.total_price_set,
  ];
  const currency =
    sets.find((s) => s?.presentment_money?.currency_code)?.presentment_money?.currency_code ??
    order.presentment_currency;
  if (!currency || !order.currency || currency.toUpperCase() === order.currency.toUpperCase()) {
    return { currency: null, total: null };
  }
  const rate = sets.find(
    (s) => s?.shop_money?.amount && s.presentment_money?.amount && parseMoney(s.shop_money.amount) > 0n,
  );
  const shop = parseMoney(rate?.shop_money?.amount);
  const shown = parseMoney(rate?.presentment_money?.amount);
  return {
    currency: currency.toUpperCase(),
    total: rate ? formatMoney(divideRoundHalfUp(goods * shown, shop)) : goods === 0n ? '0.00' : null,
  };
}

/** "vip, wholesale ,  vip" → ["vip", "wholesale"]: Shopify's comma-separated tags, each once. */
export function splitTags(tags: string | null): string[] {
  return [
    ...new Set(
      (tags ?? '')
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
}

/**
 * The CRM order for a Shopify order. totalValue is the sum of the lines' subtotals (the database keeps
 * an order's total equal to its lines): the goods after every discount and refund, in the shop's
 * currency (see order-amounts.ts). Shipping is not a line; Shopify's own total (with shipping and
 * taxes) goes into the description.
 */
export function mapOrder(
  order: ShopifyOrder,
  opts: { products: readonly CatalogProduct[]; strategy: ProductMatchStrategy; defaultCountry: string },
): MappedOrder {
  const amounts = orderAmounts(order);
  const lines = order.line_items.map((line, i) =>
    mapLine(line, amounts.lines[i] as LineAmounts, opts.products, opts.strategy),
  );
  const total = formatMoney(amounts.current);
  const shipping = order.shipping_address;
  const shown = presentment(order, amounts.current);
  return {
    shopifyOrderId: order.id,
    shopifyOrderName: order.name ?? `#${order.order_number ?? order.id}`,
    financialStatus: order.financial_status,
    cancelledAt: toUtc(order.cancelled_at),
    shopifyUpdatedAt: toUtc(order.updated_at),
    description: describe(order, total, amounts),
    shippingAddress: shipping && streetOf(shipping),
    shippingCity: shipping?.city ?? null,
    shippingDepartment: shipping?.province ?? null,
    totalValue: total,
    originalTotal: formatMoney(amounts.original),
    currency: order.currency?.toUpperCase() ?? null,
    presentmentCurrency: shown.currency,
    presentmentTotal: shown.total,
    tags: splitTags(order.tags),
    test: order.test,
    lines,
    contact: contactDraftFromOrder(order, opts.defaultCountry),
    customerEmail: order.email ?? order.customer?.email ?? order.contact_email,
  };
}
