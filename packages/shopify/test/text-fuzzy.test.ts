import {
  type CountryCode,
  getCountries,
  getExampleNumber,
  parsePhoneNumberFromString,
} from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';
import { describe, expect, it } from 'vitest';
import {
  contactScorer,
  FUZZY_THRESHOLDS,
  FUZZY_WEIGHTS,
  levenshtein,
  normalizeText,
  phoneDigitDistance,
  phonesAreNear,
  phoneticKeys,
  scoreContactCandidate,
  trigramSimilarity,
} from '../src/index.ts';

describe('normalizeText (= SQL app.crm_normalize)', () => {
  it.each([
    ['  María José   LÓPEZ-Gutiérrez ', 'maria jose lopez gutierrez'],
    ['Bogotá, D.C.', 'bogota d c'],
    ['ÑANDÚ Çelik Ÿves', 'nandu celik yves'],
    ['Calle 63 # 9-45', 'calle 63 9 45'],
    ['İstanbul', 'istanbul'],
    ['Søren', 's ren'], // ø is not among the accents the SQL folds
    ['Jose\u0301', 'jose'], // a decomposed accent is dropped, as in SQL
    ['', ''],
    [null, ''],
    [undefined, ''],
  ])('%j → %j', (input, normal) => {
    expect(normalizeText(input)).toBe(normal);
  });
});

describe('phoneticKeys (≈ SQL app.crm_phonetic_keys)', () => {
  it('gives the double-metaphone keys of each word, at most 4 characters, deduplicated and sorted', () => {
    expect(phoneticKeys('María José López Gutiérrez')).toEqual(['HS', 'KTRS', 'LPS', 'MR']);
    expect(phoneticKeys('Schwarzenegger')).toEqual(['XFRT', 'XRSN']);
    expect(phoneticKeys('Jhon y Juan')).toEqual(['AN', 'JN']); // "y" is one character: skipped
    expect(phoneticKeys('2043 --')).toEqual([]);
    expect(phoneticKeys(null)).toEqual([]);
  });

  it('spells alike what sounds alike', () => {
    expect(phoneticKeys('Gómez')).toEqual(phoneticKeys('Gomes'));
    expect(phoneticKeys('Yésica').some((k) => phoneticKeys('Jessica').includes(k))).toBe(true);
  });
});

describe('trigramSimilarity (= pg_trgm similarity)', () => {
  // Values PostgreSQL 15 returns for select similarity(a, b).
  it.each([
    ['word', 'two words', 0.36363637],
    ['maria lopez', 'maria lopes', 0.71428573],
    ['maria', 'maria lopez', 0.5],
    ['juan lopez', 'pedro lopez', 0.3529412],
    ['yesica gomez', 'jessica gomes', 0.35],
    ['maria jose lopez gutierrez', 'maria lopez', 0.46153846],
    ['serum vitamina c', 'serum vitamina e', 0.7894737],
    ['sérum vitamina c', 'SERUM vitamina', 0.6],
    ['cosmetiquera de regalo', 'cosmetiquera regalo', 0.8695652],
    ['a', 'a', 1],
    ['x', 'ab', 0],
    ['', '', 0],
  ])('similarity(%j, %j) = %s', (a, b, value) => {
    expect(trigramSimilarity(a, b)).toBe(Math.fround(value));
    expect(trigramSimilarity(b, a)).toBe(Math.fround(value));
  });
});

describe('phonesAreNear', () => {
  it('takes 1–2 edits between numbers of one length, one digit more or less alone', () => {
    expect(phonesAreNear('+573001234567', '+573001234568')).toBe(true); // one mistyped
    expect(phonesAreNear('+573001234567', '+573001234598')).toBe(true); // two mistyped
    expect(phonesAreNear('+573001234567', '+573001243567')).toBe(true); // two swapped
    expect(phonesAreNear('+573001234567', '+573012345677')).toBe(true); // one dropped, one added
    expect(phonesAreNear('+573001234567', '+57300123456')).toBe(true); // one dropped
    expect(phonesAreNear('+57300123456', '+573001234567')).toBe(true); // one added
  });
  it('leaves out the same number, three edits, and a length change with another edit', () => {
    expect(phonesAreNear('+573001234567', '+573001234567')).toBe(false);
    expect(phonesAreNear('+573001234567', '+573001234999')).toBe(false); // three mistyped
    expect(phonesAreNear('+573001234567', '+57300123458')).toBe(false); // one dropped and one mistyped
    expect(phonesAreNear('+573001234567', '+5730012345')).toBe(false); // two dropped
    expect(phonesAreNear('+573001234567', null)).toBe(false);
  });
  it('is what the scorer calls a near phone', () => {
    const probe = { name: 'Ana Gómez', city: null, phone: '+573001234567', email: null };
    const near = scoreContactCandidate(probe, { ...probe, phone: '+57300123456' });
    const lengthAndTypo = scoreContactCandidate(probe, { ...probe, phone: '+57300123458' });
    expect(near.reasons).toContain('phone differs by 1 digit');
    expect(lengthAndTypo.reasons.some((r) => r.startsWith('phone'))).toBe(false);
    expect(near.score - lengthAndTypo.score).toBeCloseTo(FUZZY_WEIGHTS.nearPhone, 3);
  });
});

describe('phoneDigitDistance', () => {
  it('counts edits between national digits', () => {
    expect(phoneDigitDistance('+573001234567', '+573001234567')).toBe(0);
    expect(phoneDigitDistance('+573001234567', '+573001234568')).toBe(1);
    expect(phoneDigitDistance('+573001234567', '+573001243567')).toBe(2); // swapped digits
    expect(phoneDigitDistance('+573001234567', '+57300123456')).toBe(1);
    expect(phoneDigitDistance('+573001234567', '+14155552671')).toBe(10); // other country: all digits
  });
  it("is, for two E.164 phones of one country, the distance of libphonenumber's national numbers", () => {
    const countries = getCountries();
    let compared = 0;
    for (const [i, country] of countries.entries()) {
      const example = getExampleNumber(country as CountryCode, examples)?.number;
      if (!example) continue;
      const digits = [...example.slice(1)];
      // One digit of the national part changed, and one dropped: a typo and a missed key.
      const at = digits.length - 1 - (i % 4);
      const typo = `+${digits.map((d, k) => (k === at ? String((Number(d) + 1) % 10) : d)).join('')}`;
      const short = `+${digits.filter((_, k) => k !== at - 1).join('')}`;
      const a = parsePhoneNumberFromString(example);
      for (const other of [typo, short]) {
        const b = parsePhoneNumberFromString(other);
        if (!a || !b || a.countryCallingCode !== b.countryCallingCode) continue;
        expect(phoneDigitDistance(example, other), `${country} ${example} ${other}`).toBe(
          levenshtein(a.nationalNumber, b.nationalNumber),
        );
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(400);
  });
  it('is null when either is missing', () => {
    expect(phoneDigitDistance(null, '+573001234567')).toBeNull();
    expect(phoneDigitDistance('+573001234567', null)).toBeNull();
    expect(phoneDigitDistance('', '')).toBeNull();
  });
});

describe('contactScorer', () => {
  it('scores each candidate as scoreContactCandidate does, whatever it scored before', () => {
    const input = { name: 'Yésica Gómez', city: 'Medellín', phone: '+573001234567', email: 'y@x.co' };
    const candidates = [
      { name: 'Jessica Gomes', city: 'medellin', phone: '+573001234576', email: null },
      { name: 'Pedro Gómez', city: 'Cali', phone: null, email: 'Y@X.co ' },
      { name: 'Yesica Gomez Ruiz', city: null, phone: '+573001234567', email: null },
    ];
    const score = contactScorer(input);
    const once = candidates.map((c) => score(c));
    expect([...candidates].reverse().map((c) => score(c))).toEqual([...once].reverse());
    expect(once).toEqual(candidates.map((c) => scoreContactCandidate(input, c)));
    expect(once.map((s) => s.isCandidate)).toEqual([true, false, true]);
  });
});

describe('scoreContactCandidate', () => {
  const maria = { name: 'María José López', city: 'Bogotá', phone: '+573001234567', email: null };

  it('the same name in the same city is a candidate, with reasons an agent reads', () => {
    const r = scoreContactCandidate(maria, {
      name: 'maria jose lopez',
      city: 'BOGOTA',
      phone: null,
      email: null,
    });
    expect(r).toEqual({
      score: 0.75,
      isCandidate: true,
      reasons: ['same phonetic name', 'name 100% similar', 'same city'],
    });
  });

  it('a similar name with a phone one or two digits off is a candidate', () => {
    const r = scoreContactCandidate(
      { name: 'María', city: null, phone: '+573001234567', email: null },
      { name: 'Maria Lopez', city: 'Medellín', phone: '+573001234568', email: null },
    );
    // 0.5 × 0.5 + 0.35; one word against two is not a phonetic match
    expect(r).toEqual({
      score: 0.6,
      isCandidate: true,
      reasons: ['name 50% similar', 'phone differs by 1 digit'],
    });
    const r2 = scoreContactCandidate(maria, {
      name: 'Maria Lopez',
      city: null,
      phone: '+573001243567',
      email: null,
    });
    // 0.5 × 0.8 + 0.35
    expect(r2).toEqual({
      score: 0.75,
      isCandidate: true,
      reasons: ['same phonetic name', 'name 71% similar', 'phone differs by 2 digits'],
    });
  });

  it('spelling variants that sound alike count as similar names', () => {
    const r = scoreContactCandidate(
      { name: 'Yésica Gómez', city: 'Cali', phone: null, email: null },
      { name: 'Jessica Gomes', city: 'cali', phone: null, email: null },
    );
    expect(r).toEqual({
      score: 0.65,
      isCandidate: true,
      reasons: ['same phonetic name', 'name 35% similar', 'same city'],
    });
  });

  it('a name alone is never enough', () => {
    const r = scoreContactCandidate(maria, {
      name: 'María José López',
      city: null,
      phone: null,
      email: null,
    });
    expect(r.score).toBe(0.5);
    expect(r.isCandidate).toBe(false);
    const elsewhere = scoreContactCandidate(maria, {
      name: 'María José López',
      city: 'Cali',
      phone: '+573109999999',
      email: null,
    });
    expect(elsewhere).toEqual({
      score: 0.4,
      isCandidate: false,
      reasons: ['same phonetic name', 'name 100% similar', 'different city'],
    });
  });

  it('a different person in the same city with a near phone is not a candidate', () => {
    const r = scoreContactCandidate(maria, {
      name: 'Pedro Ramírez',
      city: 'Bogotá',
      phone: '+573001234568',
      email: null,
    });
    expect(r.isCandidate).toBe(false);
    expect(r.reasons).toEqual(['name 3% similar', 'same city', 'phone differs by 1 digit']);
  });

  it('a namesake sharing only a surname is not a candidate, even in the same city', () => {
    const r = scoreContactCandidate(
      { name: 'Juan López', city: 'Bogotá', phone: null, email: null },
      { name: 'Pedro López', city: 'Bogotá', phone: null, email: null },
    );
    expect(r.isCandidate).toBe(false);
  });

  it('the same email corroborates a similar name', () => {
    const r = scoreContactCandidate(
      { name: 'Maria Lopez', city: null, phone: null, email: 'Maria@Example.com ' },
      { name: 'María López Gutiérrez', city: null, phone: null, email: 'maria@example.com' },
    );
    expect(r.isCandidate).toBe(true);
    expect(r.reasons).toContain('same email');
  });

  it('keeps its documented thresholds', () => {
    expect(FUZZY_THRESHOLDS).toEqual({
      candidate: 0.6,
      nameSimilarity: 0.5,
      phoneticName: 0.8,
      phoneDigits: 2,
    });
  });
});
