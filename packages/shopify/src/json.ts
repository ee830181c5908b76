import { isSafeNumber, parse } from 'lossless-json';

/**
 * JSON.parse that loses no digits: Shopify ids exceed Number.MAX_SAFE_INTEGER (2^53 − 1), and
 * JSON.parse would silently round 6114532901234567891 to 6114532901234567000.
 *
 * Numbers that a JS number represents exactly come back as numbers; any other number (an integer
 * beyond 2^53, or a decimal with more significant digits than a double holds) comes back as the
 * string of its digits as written. Duplicate keys keep the last value, as JSON.parse does.
 *
 * One leading byte order mark is ignored (RFC 8259 §8.1 lets a parser do so): bodies are stored as
 * received, BOM included, and must still read.
 *
 * @throws SyntaxError when the text is not JSON.
 */
export function parseJsonLossless(text: string): unknown {
  return parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, null, {
    parseNumber: (digits) => (isSafeNumber(digits) ? Number(digits) : digits),
    onDuplicateKey: ({ newValue }) => newValue,
  });
}
