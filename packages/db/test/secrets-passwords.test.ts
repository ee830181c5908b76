import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../src/passwords.ts';
import {
  decryptSecret,
  encryptSecret,
  generateEncryptionKey,
  last4,
  loadEncryptionKey,
  parseEncryptionKey,
  SecretDecryptionError,
} from '../src/secrets.ts';

const key = parseEncryptionKey(generateEncryptionKey());
const otherKey = parseEncryptionKey(generateEncryptionKey());
const secret = 'shpat_0123456789abcdef0123456789abcdef';

/** Replaces one base64url part of `v1.<iv>.<tag>.<ciphertext>`. */
function withPart(stored: string, index: number, change: (bytes: Buffer) => Buffer): string {
  const parts = stored.split('.');
  parts[index] = change(Buffer.from(parts[index] ?? '', 'base64url')).toString('base64url');
  return parts.join('.');
}
const flipFirstBit = (b: Buffer) => {
  const copy = Buffer.from(b);
  copy[0] = (copy[0] ?? 0) ^ 1;
  return copy;
};

describe('secrets (AES-256-GCM)', () => {
  it('round-trips, including the empty string and non-ASCII text', () => {
    for (const plaintext of [secret, '', 'contraseña-ñandú-🔑']) {
      expect(decryptSecret(encryptSecret(plaintext, key), key)).toBe(plaintext);
    }
  });

  it('never contains the plaintext, and encrypts the same value differently each time', () => {
    const a = encryptSecret(secret, key);
    const b = encryptSecret(secret, key);
    expect(a).not.toBe(b);
    for (const stored of [a, b]) {
      expect(stored).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(stored).not.toContain(secret);
      expect(stored).not.toContain(secret.slice(6, 20));
      expect(stored).not.toContain(Buffer.from(secret).toString('base64url').slice(0, 16));
      expect(stored).not.toContain(Buffer.from(secret).toString('hex').slice(0, 16));
    }
  });

  it('refuses a wrong key', () => {
    expect(() => decryptSecret(encryptSecret(secret, key), otherKey)).toThrow(SecretDecryptionError);
  });

  it.each([
    ['ciphertext', 3],
    ['tag', 2],
    ['iv', 1],
  ])('refuses a tampered %s', (_part, index) => {
    const tampered = withPart(encryptSecret(secret, key), index, flipFirstBit);
    expect(() => decryptSecret(tampered, key)).toThrow(SecretDecryptionError);
  });

  it('refuses a truncated authentication tag (a short tag makes forgery feasible)', () => {
    const stored = encryptSecret(secret, key);
    for (const length of [4, 8, 12, 15]) {
      const truncated = withPart(stored, 2, (tag) => tag.subarray(0, length));
      expect(() => decryptSecret(truncated, key), `tag of ${length} bytes`).toThrow(SecretDecryptionError);
    }
  });

  it.each(['plain text', '', 'v2.a.b.c', 'v1..', 'v1.AAAA'])('refuses malformed input %j', (stored) => {
    expect(() => decryptSecret(stored, key)).toThrow(SecretDecryptionError);
  });

  it('the error message carries no secret', () => {
    const error = (() => {
      try {
        decryptSecret(encryptSecret(secret, key), otherKey);
      } catch (e) {
        return e as Error;
      }
      return new Error('none');
    })();
    expect(error).toBeInstanceOf(SecretDecryptionError);
    expect(error.message).not.toContain(secret);
  });

  it('parses hex and base64 keys of 32 bytes and refuses other lengths', () => {
    const hex = 'ab'.repeat(32);
    expect(parseEncryptionKey(hex).bytes).toEqual(Buffer.from(hex, 'hex'));
    expect(parseEncryptionKey(Buffer.alloc(32, 7).toString('base64')).bytes).toEqual(Buffer.alloc(32, 7));
    expect(() => parseEncryptionKey('ab'.repeat(16))).toThrow(/32 bytes/);
    expect(() => parseEncryptionKey('')).toThrow(/32 bytes/);
  });

  it('last4 shows only the last four characters', () => {
    expect(last4(secret)).toBe('cdef');
    expect(last4('abc')).toBe('abc');
  });

  describe('loadEncryptionKey', () => {
    const dirs: string[] = [];
    afterAll(async () => {
      await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
    });

    it('generates a key file once (mode 0600) and reads the same key back; APP_ENCRYPTION_KEY wins', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'crm-key-'));
      dirs.push(dir);
      const file = join(dir, 'nested', 'encryption.key');
      const [first, second] = await Promise.all([loadEncryptionKey(file, {}), loadEncryptionKey(file, {})]);
      expect(first?.bytes).toHaveLength(32);
      expect(second?.bytes).toEqual(first?.bytes);
      expect((await loadEncryptionKey(file, {})).bytes).toEqual(first?.bytes);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(parseEncryptionKey(await readFile(file, 'utf8')).bytes).toEqual(first?.bytes);
      const fromEnv = generateEncryptionKey();
      expect((await loadEncryptionKey(file, { APP_ENCRYPTION_KEY: fromEnv })).bytes).toEqual(
        parseEncryptionKey(fromEnv).bytes,
      );
    });
  });
});

describe('passwords (scrypt)', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('demo-password');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(hash).not.toContain('demo-password');
    expect(await verifyPassword('demo-password', hash)).toBe(true);
    expect(await verifyPassword('demo-passwore', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
    expect(await verifyPassword('demo-password ', hash)).toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same')).not.toBe(await hashPassword('same'));
  });

  it.each([
    ['empty', ''],
    ['another scheme', 'bcrypt$2b$10$abc'],
    ['missing parts', 'scrypt$32768$8$1$c2FsdA=='],
    [
      'a cost that is not a power of two',
      'scrypt$1000$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==',
    ],
    ['a cost that is not a number', 'scrypt$abc$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA=='],
    ['an absurd cost', 'scrypt$1073741824$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA=='],
  ])('a malformed stored hash (%s) is false, not an exception', async (_what, stored) => {
    await expect(verifyPassword('demo-password', stored)).resolves.toBe(false);
  });
});
