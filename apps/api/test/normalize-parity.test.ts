// The database indexes contacts by app.crm_normalize(); the worker scores candidates with
// normalizeText() from @crm/shopify. If the two ever disagree, fuzzy matching silently degrades.
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { normalizeText } from '@crm/shopify';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

async function sqlNormalize(values: string[]): Promise<string[]> {
  const rows = await db.sql<{ n: string }[]>`
    select app.crm_normalize(v) as n from unnest(${values}::text[]) with ordinality as t(v, i) order by i`;
  return rows.map((r) => r.n);
}

describe('normalizeText equals app.crm_normalize', () => {
  it('on names and cities with every accent the fold covers', async () => {
    const samples = [
      'Núñez Peña Çelik',
      'María José López Gutiérrez',
      'BOGOTÁ, D.C.',
      'Medellín',
      '  São   Paulo  ',
      'Ÿvonne Ýáñez',
      "O'Brien-Smith",
      'Zoë Ëlïsë Ōtōmō Ūrū',
      '',
    ];
    expect(await sqlNormalize(samples)).toEqual(samples.map((s) => normalizeText(s)));
  });

  it('on arbitrary text drawn from a Latin alphabet with accents and punctuation', async () => {
    const alphabet = 'aAáÁàâäãåāeéèêëēiíìîïīoóòôöõōuúùûüūnñcçyýÿzZ 0123456789-.,\'"#/'.split('');
    const strings = fc.sample(fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 30 }), {
      numRuns: 500,
      seed: 20261125,
    });
    expect(await sqlNormalize(strings)).toEqual(strings.map((s) => normalizeText(s)));
  });
});
