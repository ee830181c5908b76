import type { EncryptionKey, Sql } from '@crm/db';
import type { AppConfig } from './config.ts';
import type { Logger } from './log.ts';

/** What every part of the API is built from: one pool, the credentials key, settings, a logger. */
export type AppDeps = {
  sql: Sql;
  key: EncryptionKey;
  config: AppConfig;
  log: Logger;
};
