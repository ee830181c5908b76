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
 * Whether X-Shopify-Hmac-Sha256 signs these raw bytes under any of the secrets (the current one and,
 * while rotating, the previous). Compares decoded bytes in constant time, and tries every secret even
 * after a match so that timing does not tell which one matched. False for a missing, non-base64 or
 * wrong-length header, and for empty secrets (which would sign anything an attacker guesses).
 */
export function verifyShopifyHmac(
  rawBody: Uint8Array,
  headerValue: string | null | undefined,
  secrets: readonly string[],
): boolean {
  const header = headerValue?.trim() ?? '';
  if (!header || !BASE64.test(header)) return false;
  const given = Buffer.from(header, 'base64');
  if (given.length !== SHA256_BYTES) return false;
  let ok = false;
  for (const secret of secrets) {
    if (secret && timingSafeEqual(given, digest(rawBody, secret))) ok = true;
  }
  return ok;
}
