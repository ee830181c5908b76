import type { Queryable } from '../client.ts';

export type MatchableProduct = { id: string; sku: string | null; title: string; price: string };

/**
 * The active products an order's lines could match, narrowed in the database (never the whole
 * catalogue per order): by SKU (case-insensitive: the stored sku_norm and its index), by title
 * (trigram index on the stored title_norm, a few per line) or by price (within 0.01 of a line's price).
 */
export async function findProductsForMatching(
  tx: Queryable,
  input: { strategy: 'sku' | 'name' | 'value'; skus: string[]; titles: string[]; prices: string[] },
): Promise<MatchableProduct[]> {
  if (input.strategy === 'sku') {
    const skus = [...new Set(input.skus.map((s) => s.trim().toLowerCase()).filter((s) => s !== ''))];
    if (skus.length === 0) return [];
    return tx<MatchableProduct[]>`
      select id, sku, title, price from products
      where workspace_id = app.current_workspace_id() and is_active
        and sku_norm = any(${skus}::text[])`;
  }
  if (input.strategy === 'name') {
    const titles = [...new Set(input.titles.map((t) => t.trim()).filter((t) => t !== ''))];
    if (titles.length === 0) return [];
    return tx<MatchableProduct[]>`
      select distinct on (p.id) p.id, p.sku, p.title, p.price
      from unnest(${titles}::text[]) as t(title)
      cross join lateral (
        select id, sku, title, price from products
        where workspace_id = app.current_workspace_id() and is_active
          and title_norm % app.crm_normalize(t.title)
        order by similarity(title_norm, app.crm_normalize(t.title)) desc
        limit 10
      ) p`;
  }
  const prices = [...new Set(input.prices.filter((p) => /^\d+(\.\d+)?$/.test(p)))];
  if (prices.length === 0) return [];
  return tx<MatchableProduct[]>`
    select distinct on (p.id) p.id, p.sku, p.title, p.price
    from unnest(${prices}::numeric[]) as x(price)
    join products p on p.workspace_id = app.current_workspace_id() and p.is_active
                   and p.price between x.price - 0.01 and x.price + 0.01`;
}
