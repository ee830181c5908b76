import { ShopifyPayloadError } from '@crm/shopify';
import { ProcessingError } from '../orders/errors.ts';

export type Failure = { message: string; permanent: boolean };

const CONSTRAINT_MESSAGES: Record<string, string> = {
  order_products_quantity_check: 'The order has a line with quantity 0.',
  order_products_unit_price_check: 'The order has a line with a negative price.',
  order_products_subtotal_check: 'The order has a line with a negative amount.',
  contacts_phone_check: 'A phone number of the order is not a valid international number.',
  contacts_secondary_phone_check: 'A phone number of the order is not a valid international number.',
};

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}

/** What an owner reads about a failed attempt, and whether another attempt could succeed. */
export function describeFailure(error: unknown): Failure {
  if (error instanceof ProcessingError) return { message: error.message, permanent: true };
  if (error instanceof ShopifyPayloadError) {
    const quantity = error.issues.find((i) => /^line_items\[\d+\]\.quantity$/.test(i.path));
    if (quantity) {
      const line = Number(/\[(\d+)\]/.exec(quantity.path)?.[1] ?? 0) + 1;
      return {
        message: `The order has a line whose quantity is 0, negative or not a whole number (line ${line}), so it cannot be imported.`,
        permanent: true,
      };
    }
    const price = error.issues.find((i) => /^line_items\[\d+\]\.price$/.test(i.path));
    if (price) {
      const line = Number(/\[(\d+)\]/.exec(price.path)?.[1] ?? 0) + 1;
      return {
        message: `The order has a line with a negative or unreadable price (line ${line}: ${price.message}), so it cannot be imported. Correct the price in Shopify; the order is imported with its next update.`,
        permanent: true,
      };
    }
    return {
      message: `Shopify sent data this app cannot read: ${firstLine(error.message)}`,
      permanent: true,
    };
  }
  const e = error as { code?: unknown; constraint_name?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? firstLine(e.message) : 'unknown error';
  if (UNAVAILABLE_CODES.has(code) || /^(08|53|57P)/.test(code)) {
    return { message: 'The database was unavailable; the event will be retried.', permanent: false };
  }
  if (code === '40001' || code === '40P01' || code === '55P03') {
    return { message: 'A conflicting change was being saved at the same moment; retried.', permanent: false };
  }
  if (/^2[23]/.test(code) && code !== '23505') {
    const constraint = typeof e.constraint_name === 'string' ? e.constraint_name : '';
    return {
      message: CONSTRAINT_MESSAGES[constraint] ?? `The order could not be saved: ${message}`,
      permanent: true,
    };
  }
  return { message: `Unexpected error while processing the event: ${message}`, permanent: false };
}
