import { doubleMetaphone } from 'double-metaphone';

/**
 * Accents the database folds (app.crm_normalize in packages/db, migration 0001), and what they fold to.
 * Any other non-ASCII letter becomes a space there, and so it does here.
 */
const ACCENTED = 'áàâäãåāéèêëēíìîïīóòôöõōúùûüūñçýÿ';
const FOLDED = 'aaaaaaaeeeeeiiiiiooooooouuuuuncyy';
const FOLD = new Map([...ACCENTED].map((c, i) => [c, FOLDED[i] ?? c]));

/**
 * Case-, accent- and punctuation-insensitive form of a name or city: "  María-José LÓPEZ " →
 * "maria jose lopez". Equals the SQL app.crm_normalize() character for character — lower(),
 * translate() of the accents above, `[^a-z0-9]+` → one space, btrim — because the database indexes
 * that column and the worker queries it with this value. (So, like the SQL, it does not decompose
 * other letters: "ø" or a decomposed "é" become spaces on both sides.)
 */
export function normalizeText(s: string | null | undefined): string {
  // PostgreSQL lowercases İ to i (one character); JS to "i̇" (two).
  const lower = (s ?? '').replace(/İ/g, 'i').toLowerCase();
  const folded = [...lower].map((c) => FOLD.get(c) ?? c).join('');
  return folded.replace(/[^a-z0-9]+/g, ' ').trim();
}

/**
 * Double-metaphone keys (primary and alternate) of each word of normalizeText(name), words of one
 * character skipped, deduplicated and sorted: what the SQL app.crm_phonetic_keys() stores in
 * contacts.name_phonetic. PostgreSQL's dmetaphone() keeps at most 4 characters, so these do too.
 */
export function phoneticKeys(name: string | null | undefined): string[] {
  const keys = new Set<string>();
  for (const word of normalizeText(name).split(' ')) {
    if (word.length < 2) continue;
    for (const key of doubleMetaphone(word)) if (key) keys.add(key.slice(0, 4));
  }
  return [...keys].sort();
}
