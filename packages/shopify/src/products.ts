import { trigramSimilarity } from './fuzzy.ts';
import { parseMoney } from './money.ts';
import type { ShopifyLineItem } from './schemas.ts';
import { normalizeText } from './text.ts';

export type ProductMatchStrategy = 'sku' | 'name' | 'value';
export type CatalogProduct = { id: string; sku: string | null; title: string; price: string };

/**
 * Minimum trigram similarity between a line's normalised title and a product's for the `name`
 * strategy. 0.6 accepts the same product written differently ("Serum vitamina C" vs "Sérum Vitamina C
 * 30ml") and refuses a product sharing one word of two; it cannot tell "Sérum Vitamina C" from
 * "Sérum Vitamina E" (0.79) — the best score wins, so an exact title is always preferred.
 */
export const PRODUCT_NAME_THRESHOLD = 0.6;

/**
 * Score of a product whose title is exactly the line's product title (without its variant): a sure
 * match for a catalogue kept per product, ranked just below an exact "title - variant" match for a
 * catalogue kept per variant. The title alone is not compared fuzzily: "IPod Nano 8gb" is 0.7 similar
 * to "IPod Nano 8gb green", and that would match the black variant to the green one.
 */
const SAME_PRODUCT_TITLE = 0.999;

/** Price difference tolerated by the `value` strategy: one cent. */
const VALUE_TOLERANCE_CENTS = 1n;

/**
 * The catalogue product a Shopify line is, by the integration's strategy, or null:
 * - `sku`: same sku, case-insensitive; an empty sku never matches;
 * - `name`: the title most similar to the line's "title - variant" name, if at least
 *   PRODUCT_NAME_THRESHOLD similar, or one equal to the line's title (normalised);
 * - `value`: the product whose price is within 0.01 of the line's unit price (before discounts), the
 *   closest first.
 * Ties go to the first product in the list.
 */
export function matchLineToProduct(
  line: ShopifyLineItem,
  products: readonly CatalogProduct[],
  strategy: ProductMatchStrategy,
): CatalogProduct | null {
  switch (strategy) {
    case 'sku': {
      const sku = line.sku?.trim().toLowerCase();
      return (sku && products.find((p) => p.sku?.trim().toLowerCase() === sku)) || null;
    }
    case 'name': {
      const full = normalizeText(line.name ?? line.title);
      const title = normalizeText(line.title);
      return best(products, (p) => {
        const candidate = normalizeText(p.title);
        const score = Math.max(
          trigramSimilarity(full, candidate),
          title && candidate === title ? SAME_PRODUCT_TITLE : 0,
        );
        return score >= PRODUCT_NAME_THRESHOLD ? score : null;
      });
    }
    case 'value': {
      const price = parseMoney(line.price);
      return best(products, (p) => {
        const diff = parseMoney(p.price) - price;
        const abs = diff < 0n ? -diff : diff;
        return abs <= VALUE_TOLERANCE_CENTS ? -Number(abs) : null;
      });
    }
  }
}

/** The product with the highest non-null score, the first on ties. */
function best(products: readonly CatalogProduct[], score: (p: CatalogProduct) => number | null) {
  let found: CatalogProduct | null = null;
  let top = Number.NEGATIVE_INFINITY;
  for (const p of products) {
    const s = score(p);
    if (s !== null && s > top) [found, top] = [p, s];
  }
  return found;
}
