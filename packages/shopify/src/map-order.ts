import { divideRoundHalfUp, formatMoney, parseMoney } from './money.ts';
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
};

export type MappedLine = {
  shopifyLineId: string;
  productId: string | null;
  sku: string;
  title: string;
  unitPrice: string;
  quantity: number;
  subtotal: string;
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
  totalValue: string;
  lines: MappedLine[];
  contact: ContactDraft;
  customerEmail: string | null;
};

const joinWords = (...parts: (string | null | undefined)[]) => parts.filter(Boolean).join(' ') || null;
const streetOf = (a: ShopifyAddress) => [a.address1, a.address2].filter(Boolean).join(', ') || null;
/** "2026-02-04T15:57:03-05:00" → "2026-02-04T20:57:03.000Z": comparable as text, whatever the offset. */
const toUtc = (s: string | null) => (s ? new Date(s).toISOString() : null);

/**
 * A line's amounts, exact: subtotal = price × quantity − its discount allocations (or, when it has
 * none, its total_discount), never below zero. The subtotal is authoritative — the order total is the
 * sum of subtotals — and the unit price is subtotal ÷ quantity rounded half up to the cent, so
 * unitPrice × quantity may differ from the subtotal by a few cents.
 */
function lineAmounts(line: ShopifyLineItem): { unit: bigint; subtotal: bigint } {
  const gross = parseMoney(line.price) * BigInt(line.quantity);
  const discount =
    line.discount_allocations.length > 0
      ? line.discount_allocations.reduce((sum, d) => sum + parseMoney(d.amount), 0n)
      : parseMoney(line.total_discount);
  const subtotal = gross - (discount > gross ? gross : discount);
  return { unit: divideRoundHalfUp(subtotal, BigInt(line.quantity)), subtotal };
}

function mapLine(line: ShopifyLineItem, products: readonly CatalogProduct[], strategy: ProductMatchStrategy) {
  const { unit, subtotal } = lineAmounts(line);
  const product = matchLineToProduct(line, products, strategy);
  const unmatchedSku = `SHOPIFY-${line.id}`;
  const mapped: MappedLine = {
    shopifyLineId: line.id,
    productId: product?.id ?? null,
    // A matched product without a sku keeps Shopify's, if any.
    sku: product ? product.sku || line.sku || unmatchedSku : unmatchedSku,
    title: line.name ?? line.title ?? '',
    unitPrice: formatMoney(unit),
    quantity: line.quantity,
    subtotal: formatMoney(subtotal),
    matched: product !== null,
  };
  return { mapped, subtotal };
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
  };
}

/** Human-readable summary for the CRM order: reference, note, payment, Shopify's own totals. */
function describe(order: ShopifyOrder, total: string): string {
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
    `Total Shopify: ${order.total_price ?? total}${currency}` +
      (order.shipping_lines.length > 0
        ? `, envío ${formatMoney(shipping)}${currency}${shippingTitles ? ` (${shippingTitles})` : ''}`
        : ''),
  ]
    .filter(Boolean)
    .join('\n');
}

/**
 * The CRM order for a Shopify order. totalValue is the sum of the lines' subtotals (the database keeps
 * an order's total equal to its lines); shipping is not a line, and Shopify's own total (with
 * shipping and taxes) goes into the description.
 */
export function mapOrder(
  order: ShopifyOrder,
  opts: { products: readonly CatalogProduct[]; strategy: ProductMatchStrategy; defaultCountry: string },
): MappedOrder {
  const mapped = order.line_items.map((line) => mapLine(line, opts.products, opts.strategy));
  const total = formatMoney(mapped.reduce((sum, l) => sum + l.subtotal, 0n));
  const shipping = order.shipping_address;
  return {
    shopifyOrderId: order.id,
    shopifyOrderName: order.name ?? `#${order.order_number ?? order.id}`,
    financialStatus: order.financial_status,
    cancelledAt: toUtc(order.cancelled_at),
    shopifyUpdatedAt: toUtc(order.updated_at),
    description: describe(order, total),
    shippingAddress: shipping && streetOf(shipping),
    shippingCity: shipping?.city ?? null,
    shippingDepartment: shipping?.province ?? null,
    totalValue: total,
    lines: mapped.map((l) => l.mapped),
    contact: contactDraftFromOrder(order, opts.defaultCountry),
    customerEmail: order.email ?? order.customer?.email ?? order.contact_email,
  };
}
