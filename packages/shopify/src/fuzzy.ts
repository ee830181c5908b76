import { lowerLikePostgres, normalizeText, phoneticKeys } from './text.ts';

/**
 * How a possible duplicate contact is scored. A candidate is never linked silently: it goes to a human
 * (contact_reviews), so these err on the side of asking, but a name alone never makes a candidate —
 * "Juan Pérez" has thousands of namesakes.
 *
 * score = 0.5 × name + 0.25 if same city (−0.1 if both cities are known and differ)
 *       + 0.4 if same phone, 0.35 if it differs by 1–2 digits + 0.4 if same email,
 * capped to [0, 1]; name = trigram similarity of the normalised names, or `phoneticName` when they
 * sound alike, whichever is higher.
 */
export const FUZZY_THRESHOLDS = {
  /**
   * Minimum score for a candidate. With the weights above: a similar name plus a near phone (phonesAreNear)
   * (0.5 × 0.5 + 0.35), or a clearly similar name (≥ 0.7, or sounding alike) plus the same city
   * (0.5 × 0.7 + 0.25). A perfect name alone scores 0.5 and is not enough.
   */
  candidate: 0.6,
  /**
   * Minimum name similarity (pg_trgm similarity of normalised names) to be a candidate at all, and the
   * cut-off for the database's trigram lookup. 0.5 keeps "maria lopez" vs "maria lopes" (0.71) and
   * "maria" vs "maria lopez" (0.5) but drops two people sharing a surname only ("juan lopez" vs
   * "pedro lopez", 0.35). pg_trgm's own default (0.3) lets in too much for names.
   */
  nameSimilarity: 0.5,
  /**
   * Name score of two names that sound alike (every word of the shorter has a double-metaphone key in
   * common with a word of the other): spelling variants such as "Yésica Gómez" / "Jessica Gomes" share
   * few trigrams (0.35) but are the same name said aloud; 0.8 ranks them like an 80% similar spelling.
   */
  phoneticName: 0.8,
  /**
   * Phones count as "near" (a typo) when their digits' edit distance plus the difference of their
   * digit counts is at most this (phonesAreNear): one or two digits mistyped, two swapped, one
   * dropped and another added — or one digit dropped or added alone. A digit dropped *and* another
   * mistyped (or two dropped) is not near: such numbers are of another length and another kind, and
   * leaving them out is what lets the database find every near phone through exact keys, with none
   * to sift out (app.crm_phone_near_keys, migration 0014).
   */
  phoneDigits: 2,
} as const;

/** The weights of the score above (the lookup orders its rows by an upper bound built from them). */
export const FUZZY_WEIGHTS = {
  name: 0.5,
  sameCity: 0.25,
  otherCity: -0.1,
  samePhone: 0.4,
  nearPhone: 0.35,
  sameEmail: 0.4,
} as const;

/** The weights and the phonetic name score together: what the lookup's upper bound of the score needs. */
export const CANDIDATE_SCORE_WEIGHTS = {
  ...FUZZY_WEIGHTS,
  phoneticName: FUZZY_THRESHOLDS.phoneticName,
} as const;

/** Distinct trigrams of a string as pg_trgm builds them: lowercase words, "  word " padded. */
function trigrams(s: string): Set<string> {
  const set = new Set<string>();
  for (const word of lowerLikePostgres(s).match(/[\p{L}\p{N}]+/gu) ?? []) {
    // By code point, as pg_trgm counts characters.
    const chars = [' ', ' ', ...word, ' '];
    for (let i = 0; i + 3 <= chars.length; i++) set.add(`${chars[i]}${chars[i + 1]}${chars[i + 2]}`);
  }
  return set;
}

/** pg_trgm's similarity of two trigram sets, as the float4 PostgreSQL returns. */
function setSimilarity(ta: ReadonlySet<string>, tb: ReadonlySet<string>): number {
  let common = 0;
  for (const t of ta) if (tb.has(t)) common++;
  const all = ta.size + tb.size - common;
  return all === 0 ? 0 : Math.fround(common / all);
}

/**
 * pg_trgm's similarity(a, b): shared distinct trigrams over all distinct trigrams, as the same float4
 * PostgreSQL returns (similarity('word', 'two words') = 4/11 → 0.36363637).
 */
export function trigramSimilarity(a: string, b: string): number {
  return setSimilarity(trigrams(a), trigrams(b));
}

/** Edit distance (insertions, deletions, substitutions) between two strings, by UTF-16 code unit. */
export function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/**
 * Edit distance between two phones' digits (+573001234567 vs +573001234576 → 2), null if either is
 * missing. For two E.164 phones of one country this is the distance of their national numbers (a
 * common prefix changes no edit distance, and E.164 has no national prefix: the test checks every
 * country's example number); phones of different countries differ in all their digits. It is what
 * the database's lookup computes (levenshtein() over the digits, findContactCandidatesByName).
 */
export function phoneDigitDistance(a: string | null, b: string | null): number | null {
  if (!a || !b) return null;
  return levenshtein(phoneDigits(a), phoneDigits(b));
}

const phoneDigits = (phone: string): string => phone.replace(/\D/g, '');

/** phonesAreNear for two phones' digits whose edit distance is known. */
function digitsAreNear(distance: number, a: string, b: string): boolean {
  return distance > 0 && distance + Math.abs(a.length - b.length) <= FUZZY_THRESHOLDS.phoneDigits;
}

/**
 * Whether two phones are "near" as the scorer and the database's lookup count it: different, and their
 * digits' edit distance plus the difference of their digit counts at most FUZZY_THRESHOLDS.phoneDigits
 * (2). So 1–2 edits between numbers of one length, 1 between numbers one digit apart in length.
 */
export function phonesAreNear(a: string | null, b: string | null): boolean {
  if (!a || !b) return false;
  const [x, y] = [phoneDigits(a), phoneDigits(b)];
  return digitsAreNear(levenshtein(x, y), x, y);
}

/**
 * Double-metaphone keys of words already seen: names repeat (a lookup scores many namesakes), and
 * the keys of a word never change. Emptied when full, so it stays small.
 */
const wordKeys = new Map<string, string[]>();
const WORD_KEYS_MAX = 20_000;

/** The double-metaphone keys of each word (of two letters or more) of a normalised name. */
function phoneticWords(normalized: string): string[][] {
  const words: string[][] = [];
  for (const word of normalized.split(' ')) {
    if (word.length < 2) continue;
    let keys = wordKeys.get(word);
    if (!keys) {
      if (wordKeys.size >= WORD_KEYS_MAX) wordKeys.clear();
      keys = phoneticKeys(word);
      wordKeys.set(word, keys);
    }
    words.push(keys);
  }
  return words;
}

/** Every word of the shorter name has a double-metaphone key in common with a word of the other. */
function soundAlike(a: readonly string[][], b: readonly string[][]): boolean {
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  // One word only matches one word: "María" alone says little about "María López".
  if (short.length === 0 || (short.length < 2 && long.length !== short.length)) return false;
  return short.every((keys) => long.some((other) => keys.some((k) => other.includes(k))));
}

export type ContactFacts = { name: string; city: string | null; phone: string | null; email: string | null };

export type ContactScore = { score: number; isCandidate: boolean; reasons: string[] };

/**
 * How likely `candidate` (an existing contact) is the same person as `input` (from an order), with the
 * reasons in words an agent understands ("same phonetic name", "name 82% similar", "same city",
 * "phone differs by 1 digit"). See FUZZY_THRESHOLDS for the scale.
 */
export function scoreContactCandidate(input: ContactFacts, candidate: ContactFacts): ContactScore {
  return contactScorer(input)(candidate);
}

/**
 * scoreContactCandidate for one `input` and many candidates: the input's normalised name, trigrams,
 * phonetic keys, city and email are worked out once, not once per candidate (a lookup scores up to a
 * few hundred namesakes per order).
 */
export function contactScorer(input: ContactFacts): (candidate: ContactFacts) => ContactScore {
  const name = normalizeText(input.name);
  const nameTrigrams = trigrams(name);
  const nameWords = phoneticWords(name);
  const city = normalizeText(input.city);
  const email = input.email?.trim().toLowerCase();
  const phone = input.phone ? phoneDigits(input.phone) : null;

  return (candidate) => {
    const reasons: string[] = [];
    const candidateName = normalizeText(candidate.name);
    const similarity = setSimilarity(nameTrigrams, trigrams(candidateName));
    const phonetic = soundAlike(nameWords, phoneticWords(candidateName));
    const nameScore = Math.max(similarity, phonetic ? FUZZY_THRESHOLDS.phoneticName : 0);
    if (phonetic) reasons.push('same phonetic name');
    reasons.push(`name ${Math.round(similarity * 100)}% similar`);
    let score = FUZZY_WEIGHTS.name * nameScore;

    const candidateCity = normalizeText(candidate.city);
    if (city && candidateCity) {
      score += city === candidateCity ? FUZZY_WEIGHTS.sameCity : FUZZY_WEIGHTS.otherCity;
      reasons.push(city === candidateCity ? 'same city' : 'different city');
    }

    const candidatePhone = candidate.phone ? phoneDigits(candidate.phone) : null;
    if (phone !== null && candidatePhone !== null) {
      const distance = levenshtein(phone, candidatePhone);
      if (distance === 0) {
        score += FUZZY_WEIGHTS.samePhone;
        reasons.push('same phone');
      } else if (digitsAreNear(distance, phone, candidatePhone)) {
        score += FUZZY_WEIGHTS.nearPhone;
        reasons.push(`phone differs by ${distance} digit${distance === 1 ? '' : 's'}`);
      }
    }

    if (email && email === candidate.email?.trim().toLowerCase()) {
      score += FUZZY_WEIGHTS.sameEmail;
      reasons.push('same email');
    }

    // Rounded so that sums such as 0.35 + 0.25 meet a 0.6 threshold despite binary fractions.
    score = Math.round(Math.min(1, Math.max(0, score)) * 1000) / 1000;
    const isCandidate = nameScore >= FUZZY_THRESHOLDS.nameSimilarity && score >= FUZZY_THRESHOLDS.candidate;
    return { score, isCandidate, reasons };
  };
}
