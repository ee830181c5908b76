import { divideRoundHalfUp, parseMoney } from './money.ts';
import type { ShopifyLineItem, ShopifyOrder } from './schemas.ts';

/**
 * What each line of an order is worth to the CRM, in cents, following Shopify:
 *
 * - a line's original amount is price × quantity minus its discount allocations (or, in payloads
 *   without them, its total_discount), never below zero;
 * - an order-level discount that Shopify did not allocate to lines (older payloads and Shopify's own
 *   documentation sample: `total_discounts` above what the lines carry) is SPREAD over the lines in
 *   proportion to their amounts, largest remainders first, so that the lines still add up to what
 *   the customer pays for the goods and no line goes below zero. Its goods share is what the lines
 *   are above Shopify's `subtotal_price` (goods after every discount, before shipping and taxes)
 *   when that is within the unallocated discounts; without subtotal_price, the unallocated
 *   discounts less the shipping discounts (shipping allocations, discounted_price below price,
 *   `shipping` discount codes, discount applications that target shipping lines);
 * - refunds and removals bring each line to Shopify's current values: its quantity is
 *   `current_quantity` (else quantity minus the refunded units), its amount the original minus the
 *   refunded subtotals of that line (else pro rata of the units left); a line with no units left is 0;
 *   when Shopify's `current_subtotal_price` (current goods) is below that, the rest is taken off the
 *   lines in proportion; refunded shipping and other order adjustments are not goods;
 * - a `refunded` order is worth 0 on every line.
 *
 * The order's current total is the sum of the current amounts, its original total the sum of the
 * original ones: both are exact, and the unit price is derived (rounded) from them.
 */
export type LineAmounts = {
  originalQuantity: number;
  quantity: number;
  /** cents, after every discount, before refunds */
  original: bigint;
  /** cents, after refunds */
  current: bigint;
  /** cents per unit, after discounts, rounded half up */
  unit: bigint;
};

export type OrderAmounts = {
  lines: LineAmounts[];
  original: bigint;
  current: bigint;
  /** The order-level discount that was not allocated to lines and was spread over them (cents). */
  unallocatedDiscount: bigint;
  /** Refunded outside the lines (order adjustments: shipping, discrepancies), in cents; not goods. */
  adjustments: bigint;
};

const sum = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);
const clamp = (v: bigint, lo: bigint, hi: bigint) => (v < lo ? lo : v > hi ? hi : v);

function lineDiscount(line: ShopifyLineItem): bigint {
  return line.discount_allocations.length > 0
    ? sum(line.discount_allocations.map((d) => parseMoney(d.amount)))
    : parseMoney(line.total_discount);
}

/**
 * A shipping line's discount: its allocations, else (payloads mapped from GraphQL have none) what
 * its discounted price is below its price. total_discounts counts it; the goods must not.
 */
function shippingLineDiscount(line: ShopifyOrder['shipping_lines'][number]): bigint {
  if (line.discount_allocations.length > 0)
    return sum(line.discount_allocations.map((d) => parseMoney(d.amount)));
  if (line.price === null || line.discounted_price === null) return 0n;
  const diff = parseMoney(line.price) - parseMoney(line.discounted_price);
  return diff > 0n ? diff : 0n;
}

/**
 * The order's shipping discounts: its shipping lines', else (REST payloads whose shipping lines say
 * nothing) its `shipping` discount codes, else its discount applications that target shipping lines
 * (a percentage of the shipping price or a fixed amount), never more than the shipping costs.
 */
function shippingDiscounts(order: ShopifyOrder): bigint {
  const onLines = sum(order.shipping_lines.map(shippingLineDiscount));
  if (onLines > 0n) return onLines;
  const codes = sum(
    order.discount_codes.filter((c) => c.type === 'shipping').map((c) => parseMoney(c.amount)),
  );
  if (codes > 0n) return codes;
  const shipping = sum(order.shipping_lines.map((s) => parseMoney(s.price)));
  const applied = sum(
    order.discount_applications
      .filter((a) => a.target_type === 'shipping_line')
      .map((a) =>
        // a percentage's value is in hundredths like money: "100.0" → 10000n
        a.value_type === 'percentage'
          ? divideRoundHalfUp(shipping * parseMoney(a.value), 10000n)
          : parseMoney(a.value),
      ),
  );
  return clamp(applied, 0n, shipping);
}

/**
 * The goods' share of the order-level discounts Shopify did not allocate to lines (see orderAmounts).
 */
function unallocatedGoodsDiscount(order: ShopifyOrder, nets: bigint[]): bigint {
  if (order.total_discounts === null) return 0n;
  const notOnLines = parseMoney(order.total_discounts) - sum(order.line_items.map(lineDiscount));
  if (notOnLines <= 0n) return 0n;
  if (order.subtotal_price !== null) {
    const gap = sum(nets) - parseMoney(order.subtotal_price);
    if (gap >= 0n && gap <= notOnLines) return gap;
  }
  return notOnLines - shippingDiscounts(order);
}

/**
 * Spreads `amount` over `weights` in proportion, exactly (largest remainder; ties to the first), never
 * giving a weight more than itself.
 */
export function spreadProportionally(amount: bigint, weights: readonly bigint[]): bigint[] {
  const total = sum([...weights]);
  if (amount <= 0n || total <= 0n) return weights.map(() => 0n);
  const capped = amount > total ? total : amount;
  const shares = weights.map((w) => (capped * w) / total);
  const rest = capped - sum(shares);
  const order = weights
    .map((w, i) => ({ i, remainder: (capped * w) % total }))
    .sort((a, b) => (a.remainder === b.remainder ? a.i - b.i : a.remainder > b.remainder ? -1 : 1));
  for (let k = 0n; k < rest; k++) {
    const slot = order[Number(k) % order.length];
    if (slot) shares[slot.i] = (shares[slot.i] ?? 0n) + 1n;
  }
  return shares;
}

/** Units and goods amount refunded per line id, from the order's refunds. */
function refundedByLine(order: ShopifyOrder): Map<string, { quantity: number; amount: bigint }> {
  const byLine = new Map<string, { quantity: number; amount: bigint }>();
  for (const refund of order.refunds) {
    for (const item of refund.refund_line_items) {
      const seen = byLine.get(item.line_item_id) ?? { quantity: 0, amount: 0n };
      seen.quantity += item.quantity ?? 0;
      seen.amount += parseMoney(item.subtotal);
      byLine.set(item.line_item_id, seen);
    }
  }
  return byLine;
}

/** The amounts of every line of the order and of the order (see LineAmounts). */
export function orderAmounts(order: ShopifyOrder): OrderAmounts {
  const nets = order.line_items.map((line) => {
    const gross = parseMoney(line.price) * BigInt(line.quantity);
    return gross - clamp(lineDiscount(line), 0n, gross);
  });
  const unallocated = unallocatedGoodsDiscount(order, nets);
  const spread = spreadProportionally(unallocated, nets);
  const refunded = refundedByLine(order);
  const fullyRefunded = order.financial_status === 'refunded';

  const lines = order.line_items.map((line, i): LineAmounts => {
    const original = (nets[i] ?? 0n) - (spread[i] ?? 0n);
    const refund = refunded.get(line.id);
    const left = line.current_quantity ?? line.quantity - (refund?.quantity ?? 0);
    const quantity = fullyRefunded ? 0 : Math.max(0, Math.min(line.quantity, left));
    let current = original;
    if (quantity === 0) current = 0n;
    else if (refund && refund.amount > 0n) current = clamp(original - refund.amount, 0n, original);
    else if (quantity < line.quantity) {
      current = divideRoundHalfUp(original * BigInt(quantity), BigInt(line.quantity));
    }
    return { originalQuantity: line.quantity, quantity, original, current, unit: 0n };
  });
  followCurrentSubtotal(order, lines);
  for (const l of lines) {
    l.unit = divideRoundHalfUp(
      l.quantity > 0 ? l.current : l.original,
      BigInt(l.quantity > 0 ? l.quantity : l.originalQuantity),
    );
  }
  return {
    lines,
    original: sum(lines.map((l) => l.original)),
    current: sum(lines.map((l) => l.current)),
    unallocatedDiscount: unallocated > 0n ? sum(spread) : 0n,
    adjustments: sum(order.refunds.flatMap((r) => r.order_adjustments.map((a) => -parseMoney(a.amount)))),
  };
}

/**
 * Shopify's current goods amount (`current_subtotal_price`) is the last word when it is below what
 * the lines come to: the difference (a refund or edit the lines do not show) is taken off the lines
 * that still have units, in proportion to their amounts.
 */
function followCurrentSubtotal(order: ShopifyOrder, lines: LineAmounts[]): void {
  if (order.current_subtotal_price === null) return;
  const target = parseMoney(order.current_subtotal_price);
  const current = sum(lines.map((l) => l.current));
  if (target < 0n || target >= current) return;
  const shares = spreadProportionally(
    current - target,
    lines.map((l) => l.current),
  );
  lines.forEach((l, i) => {
    l.current -= shares[i] ?? 0n;
  });
}
