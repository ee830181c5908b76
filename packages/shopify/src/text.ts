import { doubleMetaphone } from 'double-metaphone';

/**
 * Accents the database folds (app.crm_normalize in packages/db, migration 0001), and what they fold to.
 * Any other non-ASCII letter becomes a space there, and so it does here. (Migration 0001's translate()
 * target has one "o" too many, which shifts ú→o, ñ→u, ç→n, ý→c; this is the intended mapping.)
 */
const ACCENTED = 'áàâäãåāéèêëēíìîïīóòôöõōúùûüūñçýÿ';
const FOLDED = 'aaaaaaaeeeeeiiiiioooooouuuuuncyy';
const FOLD = new Map([...ACCENTED].map((c, i) => [c, FOLDED[i] ?? c]));

/** lower() as PostgreSQL does it: one character for one, so İ becomes i (JS makes it "i̇", two). */
export function lowerLikePostgres(s: string): string {
  return s.replace(/İ/g, 'i').toLowerCase();
}

/**
 * Case-, accent- and punctuation-insensitive form of a name or city: "  María-José LÓPEZ " →
 * "maria jose lopez". Equals the SQL app.crm_normalize() character for character — lower(),
 * translate() of the accents above, `[^a-z0-9]+` → one space, btrim — because the database indexes
 * that column and the worker queries it with this value. (So, like the SQL, it does not decompose
 * other letters: "ø" or a decomposed "é" become spaces on both sides.)
 */
export function normalizeText(s: string | null | undefined): string {
  const folded = [...lowerLikePostgres(s ?? '')].map((c) => FOLD.get(c) ?? c).join('');
  return folded.replace(/[^a-z0-9]+/g, ' ').trim();
}

/**
 * Double-metaphone keys (primary and alternate) of each word of normalizeText(name), words of one
 * character skipped, deduplicated and sorted — what the SQL app.crm_phonetic_keys() stores in
 * contacts.name_phonetic, cut like PostgreSQL's dmetaphone() to 4 characters. The two implementations
 * differ on a few spellings (PostgreSQL also gives "X" as the alternate of "cia": García → KRS, KRX
 * there, KRS here), so compare these keys with each other, and query the database's keys with
 * app.crm_phonetic_keys() on its side.
 */
export function phoneticKeys(name: string | null | undefined): string[] {
  const keys = new Set<string>();
  for (const word of normalizeText(name).split(' ')) {
    if (word.length < 2) continue;
    for (const key of doubleMetaphone(word)) if (key) keys.add(key.slice(0, 4));
  }
  return [...keys].sort();
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Text PostgreSQL can store: without NUL (U+0000, which no text column accepts) and with any unpaired
 * UTF-16 surrogate replaced by U+FFFD (it has no UTF-8 form). Everything a payload maps to CRM text
 * goes through this at the schema boundary, so a buyer's stray "\u0000" cannot fail an order forever.
 */
export function storableText(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what is removed
  return s.replace(/\u0000/g, '').replace(LONE_SURROGATE, '\uFFFD');
}
