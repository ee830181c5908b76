import type { Db, EncryptionKey } from '@crm/db';
import type { AppConfig } from './config.ts';
import type { Logger } from './log.ts';

/**
 * What every part of the API is built from: the database (in production the role pools, each logged
 * in as app_user / app_worker / app_auth; a single pool only in tests that arrange data as the owner),
 * the credentials key, settings, a logger.
 */
export type AppDeps = {
  sql: Db;
  key: EncryptionKey;
  config: AppConfig;
  log: Logger;
};
