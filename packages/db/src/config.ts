import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The local data folder of the zero-setup default (git-ignored): embedded cluster and encryption key. */
export function dataDir(env = process.env): string {
  return env.DATA_DIR ?? fileURLToPath(new URL('../../../.data/', import.meta.url));
}

export function encryptionKeyFile(env = process.env): string {
  return join(dataDir(env), 'encryption.key');
}

export function embeddedPort(env = process.env): number {
  return Number(env.EMBEDDED_PG_PORT ?? 54329);
}
