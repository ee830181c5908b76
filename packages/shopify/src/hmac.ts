import { createHmac, timingSafeEqual } from 'node:crypto';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const SHA256_BYTES = 32;

function digest(rawBody: string | Uint8Array, secret: string): Buffer {
  return createHmac('sha256', secret).update(rawBody).digest();
}

/** The X-Shopify-Hmac-Sha256 value Shopify would send: base64 of HMAC-SHA256(secret, raw body). */
export function signShopifyWebhook(rawBody: string | Uint8Array, secret: string): string {
  return digest(rawBody, secret).toString('base64');
}

/**
 * Which of the secrets (the current one and, while rotating, the previous) X-Shopify-Hmac-Sha256
 * signs these raw bytes under: its index, or -1. Compares decoded bytes in constant time, and tries
 * every secret even after a match so that timing does not tell which one matched. -1 for a missing,
 * non-base64 or wrong-length header, and for empty secrets (which would sign anything an attacker
 * guesses).
 */
export function matchShopifyHmac(
  rawBody: Uint8Array,
  headerValue: string | null | undefined,
  secrets: readonly string[],
): number {
  const header = headerValue?.trim() ?? '';
  if (!header || !BASE64.test(header)) return -1;
  const given = Buffer.from(header, 'base64');
  if (given.length !== SHA256_BYTES) return -1;
  let match = -1;
  secrets.forEach((secret, i) => {
    if (secret && timingSafeEqual(given, digest(rawBody, secret)) && match < 0) match = i;
  });
  return match;
}
