import { z } from 'zod';

/**
 * The one rule for Shopify credentials an owner types in (Admin API access token, webhook signing
 * secret): Shopify issues them with 32 or more characters (`shpat_` + 32 hex, `shpss_` + 32 hex, or a
 * 32-hex app secret), all printable ASCII without spaces. Anything shorter is a typo or a guessable
 * secret, and is refused with words an owner understands.
 */
export const SHOPIFY_SECRET_MIN_LENGTH = 32;
export const SHOPIFY_SECRET_MAX_LENGTH = 1024;

/**
 * A secret's last 4 characters are shown (so an owner can tell which one is saved) only when it has
 * at least this many: then the 4 shown leave 28+ unknown. A shorter secret shows nothing.
 */
export const SECRET_HINT_MIN_LENGTH = 32;

const PRINTABLE = /^[\x21-\x7e]+$/;

/** Why a credential is not acceptable, or null when it is. `label`: "access token", "webhook signing secret". */
export function shopifySecretProblem(value: string, label = 'secret'): string | null {
  if (value.length === 0) return `Enter the ${label}.`;
  if (!PRINTABLE.test(value)) {
    return `The ${label} may contain only letters, digits and punctuation (no spaces or control characters).`;
  }
  if (value.length < SHOPIFY_SECRET_MIN_LENGTH) {
    return `The ${label} is too short: Shopify's have at least ${SHOPIFY_SECRET_MIN_LENGTH} characters. Copy it again from Shopify.`;
  }
  if (value.length > SHOPIFY_SECRET_MAX_LENGTH) {
    return `The ${label} is too long (at most ${SHOPIFY_SECRET_MAX_LENGTH} characters).`;
  }
  return null;
}

/** A zod schema for a credential input: trimmed, then checked by shopifySecretProblem. */
export function shopifySecretSchema(label = 'secret') {
  return z
    .string()
    .max(SHOPIFY_SECRET_MAX_LENGTH * 4)
    .transform((v) => v.trim())
    .superRefine((value, ctx) => {
      const problem = shopifySecretProblem(value, label);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
}

/** What may be shown of a secret of this length: whether its last 4 characters are. */
export function mayShowSecretHint(length: number): boolean {
  return length >= SECRET_HINT_MIN_LENGTH;
}

/** The last 4 characters of a secret to store for display, or null when it is too short to show any. */
export function secretHint(secret: string): string | null {
  return mayShowSecretHint(secret.length) ? secret.slice(-4) : null;
}
