import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

// scrypt with N=2^15, r=8, p=1 (about 32 MiB and tens of ms per hash): OWASP's minimum for scrypt.
const PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function scryptAsync(
  password: string,
  salt: Buffer,
  keylen: number,
  options: ScryptOptions,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keylen, { ...options, maxmem: 128 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** `scrypt$N$r$p$salt$hash` (base64). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, KEY_LENGTH, PARAMS);
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/** A decimal integer within [min, max], or null. */
function boundedInt(text: string, min: number, max: number): number | null {
  if (!/^[0-9]{1,10}$/.test(text)) return null;
  const value = Number(text);
  return value >= min && value <= max ? value : null;
}

/**
 * Constant-time check of a password against a stored hash; false for any malformed hash (including
 * cost parameters scrypt refuses, or so large that checking one password would exhaust the server).
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  const [scheme, n, r, p, salt, hash] = parts;
  if (parts.length !== 6 || scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const N = boundedInt(n, 2, 2 ** 20);
  const blockSize = boundedInt(r, 1, 32);
  const parallel = boundedInt(p, 1, 16);
  if (N === null || blockSize === null || parallel === null || (N & (N - 1)) !== 0) return false;
  const expected = Buffer.from(hash, 'base64');
  if (expected.length < 16 || expected.length > 64) return false;
  try {
    const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, {
      N,
      r: blockSize,
      p: parallel,
    });
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  } catch {
    return false; // parameters scrypt refuses (memory above maxmem, say)
  }
}
