export {
  createSql,
  databaseNameOf,
  type Queryable,
  type Sql,
  type SqlOptions,
  type Tx,
  withDatabaseName,
} from './client.ts';
export { dataDir, embeddedPort, encryptionKeyFile } from './config.ts';
export { type EmbeddedDatabase, startEmbeddedPostgres } from './embedded.ts';
export {
  type ConnectionMethod,
  type IntegrationTokens,
  lockIntegrationTokens,
  markNeedsReconnection,
  type RenewedTokens,
  readIntegrationTokens,
  recordApiWarning,
  storeRenewedTokens,
} from './integration-tokens.ts';
export {
  loadMigrations,
  MIGRATIONS_DIR,
  type Migration,
  MigrationChecksumError,
  migrate,
  pendingMigrations,
} from './migrate.ts';
export { type OpenedDatabase, openDatabase } from './open.ts';
export { hashPassword, verifyPassword } from './passwords.ts';
export {
  actForWorkspace,
  applyTransactionSettings,
  type Db,
  isConnectionLost,
  savepoint,
  transaction,
  WORKER_PLAN_CACHE_MODE,
  WORKER_PLANNER_SETTINGS,
  withAuth,
  withUser,
  withWorkerRouting,
  withWorkspace,
} from './rls.ts';
export {
  type AppRole,
  connectRolePools,
  derivedRolePassword,
  isRolePools,
  type RolePools,
  roleUrl,
} from './role-pools.ts';
export {
  decryptSecret,
  type EncryptionKey,
  encryptSecret,
  generateEncryptionKey,
  last4,
  loadEncryptionKey,
  parseEncryptionKey,
  SecretDecryptionError,
  storedSecretLength,
} from './secrets.ts';
export {
  DEMO_PASSWORD,
  DEMO_SHOP_DOMAIN,
  DEMO_USERS,
  type SeedOptions,
  type SeedResult,
  seed,
} from './seed.ts';
export {
  isUuid,
  isWebhookEventStatus,
  UUID_PATTERN,
  WEBHOOK_EVENT_STATUSES,
  type WebhookEventStatus,
} from './values.ts';
