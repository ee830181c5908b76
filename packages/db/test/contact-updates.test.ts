/**
 * A returning customer's order completes her contact (fillContactBlanks: address, Shopify customer id,
 * …). With no room left on the contact's page, PostgreSQL writes the new row version on another page
 * and adds it to every index of contacts (~100 GIN keys, the trigram buckets): that cost grows with
 * the indexes' size. Migration 0027 leaves room on each page (fillfactor 90), so that an update that
 * changes no indexed column stays on its page, a HOT update that touches no index.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withWorkspace } from '../src/rls.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';
import { fillContactBlanks } from '../src/worker/contacts.ts';
import { buildFixtures, type Fixtures } from './fixtures.ts';
import { tableUpdates } from './helpers.ts';

let db: TestDatabase;
let f: Fixtures;

beforeAll(async () => {
  db = await createTestDatabase();
  f = await buildFixtures(db.sql);
});
afterAll(async () => {
  await db?.drop();
});

describe('completing a contact from an order', () => {
  it('is a HOT update on a page filled by a bulk load (no index touched)', async () => {
    // Enough contacts in one statement to fill several pages, as an import or a bulk load does.
    await db.sql`
      insert into contacts (workspace_id, name, city)
      select ${f.a.id}, 'Bulk Contact ' || g, 'Medellín' from generate_series(1, 3000) as g`;
    const [first] = await db.sql<{ id: string; block: string }[]>`
      select id, (ctid::text::point)[0]::text as block from contacts
      where workspace_id = ${f.a.id} and name like 'Bulk Contact %' order by ctid limit 1`;
    if (!first) throw new Error('no bulk contact');
    const [page] = await db.sql<{ rows: number }[]>`
      select count(*)::int as rows from contacts where (ctid::text::point)[0]::text = ${first.block}`;
    expect(page?.rows).toBeGreaterThan(5); // a full page, not a lone row

    const hot = await withWorkspace(db.sql, f.a.id, async (tx) => {
      const before = await tableUpdates(tx, 'contacts');
      await fillContactBlanks(tx, first.id, {
        name: 'Bulk Contact',
        phone: null,
        email: null,
        address: 'Calle 10 # 43-12',
        city: 'Medellín',
        department: 'Antioquia',
        secondaryPhone: null,
        secondaryEmail: null,
        shopifyCustomerId: '7001',
      });
      const after = await tableUpdates(tx, 'contacts');
      return { updated: after.updated - before.updated, hot: after.hot - before.hot };
    });
    expect(hot).toEqual({ updated: 1, hot: 1 });
    const [row] = await db.sql<{ address: string; block: string }[]>`
      select address, (ctid::text::point)[0]::text as block from contacts where id = ${first.id}`;
    expect(row).toEqual({ address: 'Calle 10 # 43-12', block: first.block });
  });
});
