// The lookup keys of migrations 0009 and 0014, checked against what they stand for with the database's own
// double-metaphone: every pair of names that sounds alike (the scorer's rule, here on dmetaphone keys)
// in the same city shares a key, and two phones share a phone key exactly when they are near (phonesAreNear).
// The cross-check against the scorer of @crm/shopify itself is apps/api/test/contact-candidates.test.ts.
import { levenshtein, phonesAreNear, CANDIDATE_SCORE_WEIGHTS as weights } from '@crm/shopify';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';
import { findContactCandidatesByName } from '../src/worker/contacts.ts';
import { asRole } from './helpers.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const GIVEN = [
  'María',
  'Mario',
  'José',
  'Juan',
  'Jon',
  'Ana',
  'Anna',
  'Yésica',
  'Jessica',
  'Cristian',
  'Christian',
];
const SURNAMES = [
  'López',
  'Lopes',
  'Gómez',
  'Gomes',
  'Pérez',
  'Peres',
  'Vásquez',
  'Vazquez',
  'Jiménez',
  'Ximénez',
];
const word = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...GIVEN, ...SURNAMES) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z]{1,7}$/) },
);
const name = fc.array(word, { minLength: 1, maxLength: 4 }).map((ws) => ws.join(' '));

type Keys = { words: string[][] };

/** The words (≥ 2 characters) of each name and their dmetaphone keys, as the database computes them. */
async function dbWordKeys(names: string[]): Promise<Keys[]> {
  const rows = await db.sql<{ n: number; words: string[][] | null }[]>`
    select t.n, (
      select array_agg(array[coalesce(nullif(dmetaphone(w.word), ''), '-'),
                             coalesce(nullif(dmetaphone_alt(w.word), ''), '-')] order by w.i)
      from unnest(string_to_array(app.crm_normalize(t.v), ' ')) with ordinality as w(word, i)
      where length(w.word) >= 2) as words
    from unnest(${names}::text[]) with ordinality as t(v, n) order by t.n`;
  return rows.map((r) => ({ words: (r.words ?? []).map((ks) => ks.filter((k) => k !== '-')) }));
}

/** The scorer's "sound alike" (packages/shopify fuzzy.ts), on the given keys per word. */
function soundAlike(a: Keys, b: Keys): boolean {
  const [short, long] = [a.words, b.words].sort((x, y) => x.length - y.length) as [string[][], string[][]];
  if (short.length === 0 || (short.length < 2 && long.length !== short.length)) return false;
  return short.every((keys) => long.some((other) => keys.some((k) => other.includes(k))));
}

describe('app.crm_name_city_keys / app.crm_name_city_probe', () => {
  it('share a key for every pair of names that sounds alike, in the same city', async () => {
    const pairs = fc.sample(fc.tuple(name, name), { numRuns: 3000, seed: 90_009 });
    const [left, right] = [pairs.map((p) => p[0]), pairs.map((p) => p[1])];
    const [kl, kr] = [await dbWordKeys(left), await dbWordKeys(right)];
    const rows = await db.sql<{ hit: boolean; other_city: boolean }[]>`
      select app.crm_name_city_keys(a, 'Bogotá') && app.crm_name_city_probe(b, 'bogota') as hit,
             app.crm_name_city_keys(a, 'Cali') && app.crm_name_city_probe(b, 'Bogotá') as other_city
      from unnest(${left}::text[], ${right}::text[]) with ordinality as t(a, b, n) order by n`;
    let alike = 0;
    let threeWordProbes = 0;
    rows.forEach((row, i) => {
      const [probe, stored] = [kr[i] as Keys, kl[i] as Keys];
      const expected = soundAlike(probe, stored);
      if (expected) {
        alike++;
        expect({ probe: right[i], stored: left[i], hit: row.hit }).toEqual({
          probe: right[i],
          stored: left[i],
          hit: true,
        });
      }
      // 0015: a probe of three words meets a stored name of three or more only if each of its words
      // shares a key with some word of it (not merely two of them, as pairs would).
      if (probe.words.length === 3 && stored.words.length >= 3) {
        threeWordProbes++;
        const everyWord = probe.words.every((keys) =>
          stored.words.some((o) => keys.some((k) => o.includes(k))),
        );
        expect({ probe: right[i], stored: left[i], hit: row.hit && !everyWord }).toEqual({
          probe: right[i],
          stored: left[i],
          hit: false,
        });
      }
      expect(row.other_city).toBe(false);
    });
    expect(alike).toBeGreaterThan(50);
    expect(threeWordProbes).toBeGreaterThan(300);
  }, 180_000);

  it('tell one word from two and need a city', async () => {
    const [row] = await db.sql<Record<string, boolean>[]>`
      select app.crm_name_city_keys('María', 'Bogotá') && app.crm_name_city_probe('Maria', 'Bogota') as one_one,
             app.crm_name_city_keys('María López', 'Bogotá') && app.crm_name_city_probe('Maria', 'Bogota') as two_one,
             app.crm_name_city_keys('Juan Pérez', 'Bogotá') && app.crm_name_city_probe('Juan Jon', 'Bogota') as same_word,
             app.crm_name_city_keys('Juan Jon', 'Bogotá') && app.crm_name_city_probe('Juan Pedro Peres', 'Bogota') as two_of_three,
             cardinality(app.crm_name_city_keys('María López', null)) = 0 as no_city`;
    expect(row).toEqual({
      one_one: true,
      two_one: false,
      same_word: true,
      two_of_three: true,
      no_city: true,
    });
  });
});

describe('app.crm_phone_near_keys', () => {
  it('share a key exactly when two phones are near (phonesAreNear) or the same', async () => {
    const digits = fc.stringMatching(/^[1-9][0-9]{6,13}$/);
    const edit = fc.tuple(
      fc.constantFrom('sub', 'ins', 'del', 'swap'),
      fc.nat(),
      fc.integer({ min: 0, max: 9 }),
    );
    const pairs = fc.sample(fc.tuple(digits, fc.array(edit, { minLength: 0, maxLength: 3 })), {
      numRuns: 2000,
      seed: 1009,
    });
    const left: string[] = [];
    const right: string[] = [];
    for (const [d, edits] of pairs) {
      let e = d;
      for (const [kind, at, digit] of edits) {
        const i = 1 + (at % Math.max(1, e.length - 1));
        if (kind === 'sub') e = e.slice(0, i) + String(digit) + e.slice(i + 1);
        else if (kind === 'ins') e = e.slice(0, i) + String(digit) + e.slice(i);
        else if (kind === 'del' && e.length > 7) e = e.slice(0, i) + e.slice(i + 1);
        else if (kind === 'swap') e = e.slice(0, i - 1) + (e[i] ?? '') + (e[i - 1] ?? '') + e.slice(i + 1);
      }
      if (e.length > 15) e = e.slice(0, 15);
      left.push(`+${d}`);
      right.push(`+${e}`);
    }
    const rows = await db.sql<{ hit: boolean; offset: number }[]>`
      select app.crm_phone_near_keys(a) && app.crm_phone_near_keys(b) as hit,
             app.crm_phone_offset(substr(a, 2), substr(b, 2)) as offset
      from unnest(${left}::text[], ${right}::text[]) with ordinality as t(a, b, n) order by n`;
    const counts = { near: 0, same: 0, farWithEditsOf2: 0, far: 0 };
    rows.forEach((row, i) => {
      const [a, b] = [left[i] ?? '', right[i] ?? ''];
      const near = phonesAreNear(a, b);
      const same = a === b;
      const distance = levenshtein(a.slice(1), b.slice(1));
      if (near) counts.near++;
      else if (same) counts.same++;
      else if (distance <= 2) counts.farWithEditsOf2++;
      else counts.far++;
      // A shared key means near (no row the lookup would fetch and throw away), and near means a key.
      expect({ a, b, hit: row.hit }).toEqual({ a, b, hit: near || same });
      // The lookup's distance, in SQL: 0 for the same phone, 1–2 for a near one.
      expect({ a, b, near: row.offset >= 1 && row.offset <= 2 }).toEqual({ a, b, near });
    });
    // Each kind is well represented, including a digit dropped and another mistyped (2 edits, not near).
    expect(counts.near).toBeGreaterThan(600);
    expect(counts.same).toBeGreaterThan(400);
    expect(counts.farWithEditsOf2).toBeGreaterThan(150);
    expect(counts.far).toBeGreaterThan(300);
  }, 180_000);
});

describe('findContactCandidatesByName under RLS', () => {
  it('uses the 0009 and 0013 indexes as app_worker, and sees only its workspace', async () => {
    const [ws, other] = await db.sql<{ id: string }[]>`
      insert into workspaces (name, slug) values ('Lookup A', 'lookup-a'), ('Lookup B', 'lookup-b') returning id`;
    if (!ws || !other) throw new Error('no workspaces');
    await db.sql`
      insert into contacts (workspace_id, name, phone, city)
      select ${ws.id}::uuid, 'Persona ' || g || ' Apellido' || g, '+57310' || lpad(g::text, 7, '0'), 'Medellín'
      from generate_series(1, 20000) g`;
    await db.sql`
      insert into contacts (workspace_id, name, phone, city) values
        (${ws.id}, 'Yésica Gómez', '+573001112233', 'Bogotá'),
        (${other.id}, 'Yésica Gómez', '+573001112234', 'Bogotá')`;
    await db.sql`analyze contacts`;
    const conn = await db.sql.reserve();
    try {
      await conn`begin`;
      await conn`select set_config('role', 'app_worker', true), set_config('app.workspace_id', ${ws.id}, true)`;
      const found = await findContactCandidatesByName(
        conn,
        {
          name: 'Jessica Gomes',
          city: 'bogota',
          phone: '+573001112243',
          email: null,
        },
        { weights },
      );
      expect(found.map((r) => r.name)).toEqual(['Yésica Gómez']);
      // No JIT for the lookup's transaction: compiling its plan cost ~30 ms at a million contacts.
      const [settings] = await conn<{ jit: string }[]>`select current_setting('jit') as jit`;
      expect(settings?.jit).toBe('off');
      await conn`set local enable_seqscan = off`;
      const plan = (
        await conn.unsafe<{ 'QUERY PLAN': string }[]>(
          `explain select id from contacts where workspace_id = app.current_workspace_id() and (
             (city_norm = 'bogota' and app.crm_name_city_keys(name, city) && app.crm_name_city_probe('Jessica Gomes', 'bogota'))
             or (phone is not null and app.crm_phone_near_keys(phone) && app.crm_phone_near_keys('+573001112243')))`,
        )
      )
        .map((r) => r['QUERY PLAN'])
        .join('\n');
      expect(plan).toContain('contacts_name_city_keys_idx');
      expect(plan).toContain('contacts_phone_near_keys_idx');
      // The trigram arm reads only the partial index of the probe's (workspace, city) bucket.
      const [{ bucket } = { bucket: -1 }] = await conn<{ bucket: number }[]>`
        select app.crm_lookup_bucket(${ws.id}, 'bogota') as bucket`;
      await conn`select set_config('pg_trgm.similarity_threshold', '0.69', true)`;
      const trigramPlan = (
        await conn.unsafe<{ 'QUERY PLAN': string }[]>(
          `explain select id from contacts where workspace_id = app.current_workspace_id()
             and name_norm % 'yesica gomez' and city_norm = 'bogota'
             and lookup_bucket = ${bucket}`,
        )
      )
        .map((r) => r['QUERY PLAN'])
        .join('\n');
      expect(trigramPlan).toContain(`contacts_name_trgm_b${bucket}_idx`);
      expect(trigramPlan).not.toMatch(/Seq Scan/);
      const similar = await findContactCandidatesByName(
        conn,
        {
          name: 'Yesica Gomes',
          city: 'Bogotá',
          phone: null,
          email: null,
        },
        { weights },
      );
      expect(similar.map((r) => r.name)).toEqual(['Yésica Gómez']);
      await conn`commit`;
    } finally {
      conn.release();
    }
  }, 180_000);

  it('has a trigram index for every bucket a (workspace, city) can fall in, and spreads cities over them', async () => {
    // 2,000 (workspace, city) pairs: every bucket they land in must have its partial index (a bucket
    // without one would make the trigram arm scan the workspace), and they use every one of the 64.
    const rows = await db.sql<{ bucket: number; indexed: boolean; n: number }[]>`
      select b.bucket, b.n::int as n,
             exists (select 1 from pg_indexes where tablename = 'contacts'
                       and indexname = format('contacts_name_trgm_b%s_idx', b.bucket)
                       and indexdef like '%gin_trgm_ops%'
                       and indexdef like format('%%WHERE (lookup_bucket = %s)', b.bucket)) as indexed
      from (
        select app.crm_lookup_bucket(gen_random_uuid(), app.crm_normalize('Ciudad ' || g)) as bucket, count(*) as n
        from generate_series(1, 2000) as g group by 1
      ) as b order by b.bucket`;
    expect(rows.map((r) => r.bucket)).toEqual(Array.from({ length: 64 }, (_, i) => i));
    expect(rows.filter((r) => !r.indexed)).toEqual([]);
    // Roughly even: no bucket holds more than three times its share (31 of 2,000).
    expect(Math.max(...rows.map((r) => r.n))).toBeLessThan(3 * (2000 / 64));
    const [{ count } = { count: -1 }] = await db.sql<{ count: number }[]>`
      select count(*)::int as count from pg_indexes
      where tablename = 'contacts' and indexname like 'contacts\_name\_trgm\_b%'`;
    expect(count).toBe(64);
  });

  it('finds new contacts in the indexes themselves, with no pending list for every search to read (0023)', async () => {
    // A GIN index with fastupdate on keeps new keys in a pending list that each search reads whole
    // until vacuum merges it: during a sale the lookup got slower with every contact orders created.
    const [ws] = await db.sql<{ id: string }[]>`
      insert into workspaces (name, slug) values ('Pending list', 'pending-list') returning id`;
    if (!ws) throw new Error('no workspace');
    await asRole(db.sql, 'app_worker', { 'app.workspace_id': ws.id })(
      (tx) => tx`
        insert into contacts (workspace_id, name, phone, city)
        select app.current_workspace_id(), 'Cliente ' || g || ' Nuevo', '+57320' || lpad(g::text, 7, '0'),
               'Ciudad ' || (g % 70)
        from generate_series(1, 300) g`,
    );
    const pending = await db.sql<{ index: string; pages: number }[]>`
      select c.relname as index, pg_catalog.gin_clean_pending_list(c.oid::regclass)::int as pages
      from pg_index i join pg_class c on c.oid = i.indexrelid join pg_am a on a.oid = c.relam
      where i.indrelid = 'contacts'::regclass and a.amname = 'gin'
      order by c.relname`;
    // name and city keys, near-phone keys and the 64 trigram buckets
    expect(pending.length).toBeGreaterThanOrEqual(66);
    expect(pending.filter((p) => p.pages > 0)).toEqual([]);
  });

  it("keeps a contact's trigram bucket with its city, moves included (0031)", async () => {
    // The buckets' partial indexes read contacts.lookup_bucket: it must be the (workspace, city)
    // hash the lookup names, or a contact would sit in an index its city's searches never read.
    const [ws] = await db.sql<{ id: string }[]>`
      insert into workspaces (name, slug) values ('Bucket moves', 'bucket-moves') returning id`;
    if (!ws) throw new Error('no workspace');
    const asWorker = asRole(db.sql, 'app_worker', { 'app.workspace_id': ws.id });
    const [contact] = await asWorker(
      (tx) => tx<{ id: string }[]>`
        insert into contacts (workspace_id, name, city)
        values (app.current_workspace_id(), 'Yésica Gómez', 'Medellín') returning id`,
    );
    if (!contact) throw new Error('no contact');
    await asWorker((tx) => tx`update contacts set city = 'Cali' where id = ${contact.id}`);
    const [row] = await db.sql<{ stored: number; hashed: number }[]>`
      select lookup_bucket as stored, app.crm_lookup_bucket(workspace_id, 'cali') as hashed
      from contacts where id = ${contact.id}`;
    expect(row?.stored).toBe(row?.hashed);
    const search = (city: string) =>
      asWorker((tx) =>
        findContactCandidatesByName(
          tx,
          { name: 'Yesica Gomes', city, phone: null, email: null },
          { weights },
        ),
      );
    expect((await search('Cali')).map((r) => r.id)).toEqual([contact.id]);
    expect(await search('Medellín')).toEqual([]);
  });

  it('queries nothing when neither a city, a phone nor an email could make a candidate', async () => {
    const conn = await db.sql.reserve();
    try {
      const found = await findContactCandidatesByName(
        conn,
        {
          name: 'María',
          city: ' ',
          phone: null,
          email: null,
        },
        { weights },
      );
      expect(found).toEqual([]);
    } finally {
      conn.release();
    }
  });
});
