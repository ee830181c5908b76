// The worker's candidate lookup (findContactCandidatesByName, migration 0009) against the scorer that
// judges its rows (scoreContactCandidate): for generated contacts and probes — Spanish and English
// names with misspellings, accents, swapped words, one- and two-word names, near phones, cities or
// none — every contact the scorer accepts as a candidate must be among the rows of the lookup.
//
// One known exception, counted and bounded here: the scorer's "same phonetic name" uses the JavaScript
// double-metaphone (packages/shopify), the database's index uses PostgreSQL's dmetaphone(); the two
// differ on a few spellings (a doubled "jj", "cia", …). A candidate that sounds alike only by the
// JavaScript keys cannot be found through an index of the database's keys.
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { findContactCandidatesByName, type WorkerTx } from '@crm/db/worker';
import { CANDIDATE_SCORE_WEIGHTS, FUZZY_THRESHOLDS, scoreContactCandidate } from '@crm/shopify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBestContactCandidate } from '../src/orders/contact-candidate.ts';

let db: TestDatabase;
let workspaceId: string;
beforeAll(async () => {
  db = await createTestDatabase();
  const [ws] = await db.sql<{ id: string }[]>`
    insert into workspaces (name, slug) values ('Candidates', 'candidates') returning id`;
  if (!ws) throw new Error('no workspace');
  workspaceId = ws.id;
});
afterAll(async () => {
  await db?.drop();
});

/** A small seeded generator (mulberry32): the same contacts and probes every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const GIVEN = [
  'María',
  'José',
  'Juan',
  'Luis',
  'Ana',
  'Laura',
  'Andrés',
  'Jorge',
  'Sofía',
  'Yésica',
  'Jessica',
  'Valentina',
  'Camila',
  'Sebastián',
  'Nicolás',
  'Mariana',
  'Gabriela',
  'Javier',
  'Miguel',
  'Cristian',
  'Christian',
  'Michael',
  'John',
  'Emily',
  'Sarah',
  'David',
  'Yolanda',
  'Guillermo',
  'Ximena',
  'Jimena',
];
const SURNAMES = [
  'García',
  'Rodríguez',
  'Martínez',
  'López',
  'González',
  'Pérez',
  'Gómez',
  'Sánchez',
  'Ramírez',
  'Torres',
  'Vásquez',
  'Jiménez',
  'Castillo',
  'Rojas',
  'Mejía',
  'Valencia',
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Núñez',
  'Muñoz',
  'Zapata',
  'Villalobos',
  'Quintero',
  'Hoyos',
  'Cifuentes',
  'Ospina',
  'Restrepo',
  'Bello',
];
const CITIES = ['Bogotá', 'Medellín', 'Cali', 'Barranquilla', 'Bucaramanga', 'Miami'];

type Person = { name: string; city: string | null; phone: string | null; email: string | null };

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;

function randomName(r: () => number): string {
  const words = [pick(r, GIVEN)];
  if (r() < 0.3) words.push(pick(r, GIVEN));
  if (r() < 0.9) words.push(pick(r, SURNAMES));
  if (r() < 0.5) words.push(pick(r, SURNAMES));
  return words.join(' ');
}

const UNACCENT: Record<string, string> = { á: 'a', é: 'e', í: 'i', ó: 'o', ú: 'u', ñ: 'n' };

/** How a name gets mistyped or rewritten by its owner. */
function vary(r: () => number, name: string): string {
  let words = name.split(' ');
  const k = r();
  if (k < 0.15 && words.length > 1)
    words = [...words.slice(1), words[0] as string]; // swapped order
  else if (k < 0.25 && words.length > 2)
    words = words.slice(0, -1); // one surname dropped
  else if (k < 0.3) words = [words[0] as string]; // given name only
  let s = words.join(' ');
  if (r() < 0.5) s = [...s].map((c) => UNACCENT[c] ?? c).join('');
  if (r() < 0.3) s = r() < 0.5 ? s.toUpperCase() : s.toLowerCase();
  const edits = Math.floor(r() * 3);
  for (let e = 0; e < edits; e++) {
    const i = 1 + Math.floor(r() * Math.max(1, s.length - 2));
    const t = r();
    if (t < 0.25) s = s.slice(0, i) + s.slice(i + 1);
    else if (t < 0.45) s = s.slice(0, i) + (s[i] ?? '') + s.slice(i);
    else if (t < 0.6) s = s.slice(0, i) + (s[i + 1] ?? '') + (s[i] ?? '') + s.slice(i + 2);
    else {
      const [re, to] = pick(r, [
        [/ll/i, 'y'],
        [/z/i, 's'],
        [/v/i, 'b'],
        [/j/i, 'g'],
        [/h/i, ''],
        [/y/i, 'i'],
        [/ch/i, 'j'],
        [/qu/i, 'k'],
      ] as [RegExp, string][]);
      s = s.replace(re, to);
    }
  }
  return s;
}

function randomPhone(r: () => number): string {
  return `+573${String(Math.floor(r() * 1e9)).padStart(9, '0')}`;
}

/** A phone 1–2 digits off (substitution, transposition, a digit added or dropped), or 3 off. */
function nearPhone(r: () => number, phone: string): string {
  let d = phone.slice(1);
  const edits = 1 + Math.floor(r() * 3);
  for (let e = 0; e < edits; e++) {
    const i = 3 + Math.floor(r() * (d.length - 3));
    const t = r();
    if (t < 0.6) d = d.slice(0, i) + String((Number(d[i]) + 1 + Math.floor(r() * 9)) % 10) + d.slice(i + 1);
    else if (t < 0.8) d = d.slice(0, i - 1) + (d[i] ?? '') + (d[i - 1] ?? '') + d.slice(i + 1);
    else if (t < 0.9) d = d.slice(0, i) + String(Math.floor(r() * 10)) + d.slice(i);
    else d = d.slice(0, i) + d.slice(i + 1);
  }
  return `+${d}`;
}

function variant(r: () => number, p: Person): Person {
  const c = r();
  return {
    name: vary(r, p.name),
    city:
      c < 0.55 ? p.city : c < 0.7 ? null : c < 0.8 ? (p.city ? p.city.toUpperCase() : null) : pick(r, CITIES),
    phone: r() < 0.4 && p.phone ? nearPhone(r, p.phone) : r() < 0.8 ? randomPhone(r) : null,
    email: r() < 0.05 ? p.email : null,
  };
}

/** The database's double-metaphone keys of each word (≥ 2 characters) of each name. */
async function dbWordKeys(names: string[]): Promise<string[][][]> {
  const rows = await db.sql<{ words: string[][] | null }[]>`
    select (
      select array_agg(array[coalesce(nullif(dmetaphone(w.word), ''), '-'),
                             coalesce(nullif(dmetaphone_alt(w.word), ''), '-')] order by w.i)
      from unnest(string_to_array(app.crm_normalize(t.v), ' ')) with ordinality as w(word, i)
      where length(w.word) >= 2) as words
    from unnest(${names}::text[]) with ordinality as t(v, n) order by t.n`;
  return rows.map((r) => (r.words ?? []).map((ks) => ks.filter((k) => k !== '-')));
}

/** The scorer's "same phonetic name", computed on the database's keys instead of JavaScript's. */
function soundAlikeByDbKeys(a: string[][], b: string[][]): boolean {
  const [short, long] = [a, b].sort((x, y) => x.length - y.length) as [string[][], string[][]];
  if (short.length === 0 || (short.length < 2 && long.length !== short.length)) return false;
  return short.every((keys) => long.some((other) => keys.some((k) => other.includes(k))));
}

/** `fn` in a transaction as app_worker for `workspace`, as the jobs run. */
async function asWorker<T>(workspace: string, fn: (conn: WorkerTx) => Promise<T>): Promise<T> {
  const conn = await db.sql.reserve();
  try {
    await conn`begin`;
    await conn`select set_config('role', 'app_worker', true), set_config('app.workspace_id', ${workspace}, true)`;
    const result = await fn(conn);
    await conn`commit`;
    return result;
  } finally {
    conn.release();
  }
}

/** Every row of the lookup (no limit in practice), with its score bound. */
async function lookup(probe: Person): Promise<Map<string, number>> {
  const rows = await asWorker(workspaceId, (conn) =>
    findContactCandidatesByName(conn, probe, {
      limit: 10_000,
      nameSimilarity: FUZZY_THRESHOLDS.nameSimilarity,
      weights: CANDIDATE_SCORE_WEIGHTS,
    }),
  );
  return new Map(rows.map((r) => [r.id, r.scoreBound]));
}

describe('findContactCandidatesByName returns every contact the scorer accepts', () => {
  it('on generated contacts and probes (names misspelt, reordered, shortened; near phones; cities)', async () => {
    const r = seeded(20_261_125);
    const people: Person[] = Array.from({ length: 90 }, (_, i) => ({
      name: randomName(r),
      city: r() < 0.85 ? pick(r, CITIES) : null,
      phone: r() < 0.9 ? randomPhone(r) : null,
      email: r() < 0.5 ? `person${i}@example.com` : null,
    }));
    const contacts: Person[] = [];
    const phones = new Set<string>();
    for (const p of people) {
      for (const c of [p, variant(r, p), variant(r, p), variant(r, p)]) {
        if (c.phone && phones.has(c.phone)) c.phone = null;
        if (c.phone) phones.add(c.phone);
        contacts.push(c);
      }
    }
    const ids = await db.sql<{ id: string }[]>`
      insert into contacts (workspace_id, name, city, phone, email)
      select ${workspaceId}::uuid, n, c, p, e
      from unnest(${contacts.map((c) => c.name)}::text[], ${contacts.map((c) => c.city)}::text[],
                  ${contacts.map((c) => c.phone)}::text[], ${contacts.map((c) => c.email)}::text[])
           with ordinality as t(n, c, p, e, i)
      order by i
      returning id`;
    expect(ids).toHaveLength(contacts.length);
    const byId = new Map(ids.map((row, i) => [row.id, contacts[i] as Person]));
    const probes = Array.from({ length: 300 }, () => variant(r, pick(r, people)));

    const contactKeys = await dbWordKeys(contacts.map((c) => c.name));
    const probeKeys = await dbWordKeys(probes.map((p) => p.name));
    const keysOf = new Map(ids.map((row, i) => [row.id, contactKeys[i] ?? []]));

    let accepted = 0;
    let returned = 0;
    const lost: string[] = [];
    const parity: string[] = [];
    let linkedFirst = 0;
    const underBound: string[] = [];
    for (const [pi, probe] of probes.entries()) {
      // apply-order links a contact with the same phone or email (case-insensitive) and stops there.
      const email = probe.email?.toLowerCase();
      if (
        contacts.some(
          (c) => (probe.phone && c.phone === probe.phone) || (email && c.email?.toLowerCase() === email),
        )
      ) {
        linkedFirst++;
        continue;
      }
      const found = await lookup(probe);
      returned += found.size;
      for (const [id, contact] of byId) {
        const s = scoreContactCandidate(probe, contact);
        // The order the lookup cuts by never ranks a row below its score.
        const bound = found.get(id);
        if (bound !== undefined && bound < s.score)
          underBound.push(
            `${JSON.stringify(probe)} → ${JSON.stringify(contact)}: ${s.score} > bound ${bound}`,
          );
        if (!s.isCandidate) continue;
        accepted++;
        if (found.has(id)) continue;
        const line = `${JSON.stringify(probe)} → ${JSON.stringify(contact)}: ${s.score} ${s.reasons.join(', ')}`;
        // Accepted only because the JavaScript keys sound alike, and the database's keys do not?
        const phoneticOnly =
          s.reasons.includes('same phonetic name') &&
          !soundAlikeByDbKeys(probeKeys[pi] ?? [], keysOf.get(id) ?? []);
        (phoneticOnly ? parity : lost).push(line);
      }
    }
    console.log(
      `${probes.length} probes (${linkedFirst} linked by phone or email first) over ${contacts.length} contacts: ` +
        `${accepted} accepted candidates, ` +
        `${returned} rows returned, ${parity.length} lost to the metaphone difference`,
      parity,
    );
    expect(lost).toEqual([]);
    expect(underBound).toEqual([]);
    expect(accepted).toBeGreaterThan(150);
    expect(parity.length).toBeLessThanOrEqual(Math.ceil(accepted * 0.02));
  }, 300_000);
});

describe('findBestContactCandidate', () => {
  it('finds the best candidate behind more than a limit of namesakes that score less', async () => {
    const [ws] = await db.sql<{ id: string }[]>`
      insert into workspaces (name, slug) values ('Namesakes', 'namesakes') returning id`;
    if (!ws) throw new Error('no workspace');
    // 40 older contacts sharing three of the probe's four words (found by the sound-alike keys, more
    // similar by trigrams than the right one, 58% against 47%, but not sounding alike: 0.54, no candidate), then the
    // same person spelt otherwise (0.65: same phonetic name, same city).
    await db.sql`
      insert into contacts (workspace_id, name, city, created_at)
      select ${ws.id}::uuid, 'Juan Carlos Pérez Zuluaga', 'Medellín', now() - make_interval(days => g)
      from generate_series(1, 40) g`;
    const [right] = await db.sql<{ id: string }[]>`
      insert into contacts (workspace_id, name, city) values (${ws.id}, 'Jhuan Karlos Peres Gomes', 'Medellín')
      returning id`;
    const probe = { name: 'Juan Carlos Pérez Gómez', city: 'Medellin', phone: null, email: null };
    const first = await asWorker(ws.id, (conn) =>
      findContactCandidatesByName(conn, probe, {
        limit: 25,
        nameSimilarity: FUZZY_THRESHOLDS.nameSimilarity,
        weights: CANDIDATE_SCORE_WEIGHTS,
      }),
    );
    // The first 25 rows hold no candidate: the right one was cut.
    expect(first).toHaveLength(25);
    expect(first.some((r) => scoreContactCandidate(probe, r).isCandidate)).toBe(false);
    expect(first.map((r) => r.id)).not.toContain(right?.id);

    const { best, rounds } = await asWorker(ws.id, (conn) => findBestContactCandidate(conn, probe));
    expect(rounds).toBe(2);
    expect(best?.id).toBe(right?.id);
    expect(best?.reasons).toContain('same phonetic name');
    expect(best?.score).toBeCloseTo(0.65, 3);
  });
});
