import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Credentials at rest: AES-256-GCM with a random 96-bit IV per value. Stored as
 * `v1.<iv>.<tag>.<ciphertext>` (base64url parts). The key never leaves this module's callers.
 */
export type EncryptionKey = { readonly bytes: Buffer };

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function parseEncryptionKey(text: string): EncryptionKey {
  const trimmed = text.trim();
  const bytes = /^[0-9a-f]{64}$/i.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (bytes.length !== 32) {
    throw new Error('APP_ENCRYPTION_KEY must be 32 bytes, written as 64 hex characters or base64');
  }
  return { bytes };
}

export function generateEncryptionKey(): string {
  return randomBytes(32).toString('base64');
}

/**
 * The key from APP_ENCRYPTION_KEY, or else from a key file (generated on first use with mode 0600) —
 * the zero-setup default keeps it in the local data folder beside the embedded database.
 */
export async function loadEncryptionKey(keyFile: string, env = process.env): Promise<EncryptionKey> {
  const fromEnv = env.APP_ENCRYPTION_KEY;
  if (fromEnv) return parseEncryptionKey(fromEnv);
  try {
    return parseEncryptionKey(await readFile(keyFile, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dirname(keyFile), { recursive: true });
  const generated = generateEncryptionKey();
  await writeFile(keyFile, `${generated}\n`, { mode: 0o600, flag: 'wx' }).catch(async (error) => {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  });
  await chmod(keyFile, 0o600);
  return parseEncryptionKey(await readFile(keyFile, 'utf8'));
}

export function encryptSecret(plaintext: string, key: EncryptionKey): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, iv, { authTagLength: TAG_BYTES });
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [
    VERSION,
    iv.toString('base64url'),
    tag.toString('base64url'),
    ciphertext.toString('base64url'),
  ].join('.');
}

export class SecretDecryptionError extends Error {
  constructor() {
    super(
      'A stored credential could not be decrypted: the encryption key differs from the one it was saved with.',
    );
    this.name = 'SecretDecryptionError';
  }
}

export function decryptSecret(stored: string, key: EncryptionKey): string {
  const parts = stored.split('.');
  const [version, iv, tag, ciphertext] = parts;
  if (parts.length !== 4 || version !== VERSION || !iv || !tag || ciphertext === undefined) {
    throw new SecretDecryptionError();
  }
  const ivBytes = Buffer.from(iv, 'base64url');
  const tagBytes = Buffer.from(tag, 'base64url');
  // GCM accepts tags as short as 4 bytes unless told otherwise; a truncated tag would make forging a
  // ciphertext feasible. Only the full 16-byte tag (and the 12-byte IV) that encryptSecret writes pass.
  if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) throw new SecretDecryptionError();
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.bytes, ivBytes, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tagBytes);
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    throw new SecretDecryptionError();
  }
}

/**
 * The length in bytes (characters, for the ASCII secrets Shopify issues) of a stored secret, read from
 * its ciphertext without decrypting it (GCM keeps the length); 0 when it is not in our format.
 */
export function storedSecretLength(stored: string): number {
  const parts = stored.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) return 0;
  return Buffer.from(parts[3] ?? '', 'base64url').length;
}

/** What the SPA may see of a credential: whether it is set, and its last 4 characters. */
export function last4(secret: string): string {
  return secret.slice(-4);
}
