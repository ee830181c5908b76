/**
 * The `hmac` Shopify puts on the query of every redirect to an app (install link, OAuth callback):
 * hex HMAC-SHA256 under the app's client secret of the other parameters, sorted by name and written
 * as a URL query (`a=1&b=2`). Shared by the API (which verifies callbacks) and the fake (which signs).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/** The message Shopify signs: every parameter but `hmac` and `signature`, sorted by name. */
function signedMessage(params: Iterable<[string, string]>): string {
  const entries = [...params].filter(([k]) => k !== 'hmac' && k !== 'signature');
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new URLSearchParams(entries).toString();
}

/** The `hmac` value for these parameters (hex). */
export function signOAuthQuery(params: Iterable<[string, string]>, secret: string): string {
  return createHmac('sha256', secret).update(signedMessage(params)).digest('hex');
}

/**
 * Whether the query's `hmac` signs its other parameters under `secret`, compared in constant time.
 * False for a missing or malformed hmac, a repeated parameter, or an empty secret.
 */
export function verifyOAuthQuery(query: URLSearchParams, secret: string): boolean {
  const given = query.getAll('hmac');
  const hmac = given[0];
  if (!secret || given.length !== 1 || !hmac || !HEX_SHA256.test(hmac)) return false;
  const names = [...query.keys()];
  if (new Set(names).size !== names.length) return false;
  const expected = Buffer.from(signOAuthQuery(query.entries(), secret), 'hex');
  return timingSafeEqual(expected, Buffer.from(hmac, 'hex'));
}
