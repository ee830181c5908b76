/**
 * The integrations service: the rules of saving, testing, enabling, deleting a workspace's Shopify
 * integration and of its webhook subscriptions. The tRPC router keeps the input/output schemas and
 * who may call what; it hands this service parsed input and an open transaction (or `db`, for the
 * operations that call Shopify, which hold no transaction open across the network call).
 *
 * Each transaction reads the integration row once (saving locks it `for update` and writes it back
 * with `returning`).
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { decryptSecret, type EncryptionKey, encryptSecret, type Tx } from '@crm/db';
import {
  checkPipelineStage,
  deleteShopifyIntegration,
  findPassedConnectionTest,
  getShopifyIntegration,
  type IntegrationRow,
  recordConnectionTest,
  setIntegrationActive,
  upsertShopifyIntegration,
} from '@crm/db/owner';
import { normalizeShopDomain, secretHint } from '@crm/shopify';
import type { AppDeps } from '../deps.ts';
import type { IntegrationConfig } from '../integration-config.ts';
import {
  type ConnectionFailureReason,
  ensureWebhookSubscriptions,
  registerWebhooks,
  ShopifyAdminError,
  type SubscriptionHealth,
  testConnection,
  type WebhookSubscription,
} from '../shopify-admin/client.ts';
import { IntegrationError, noIntegration } from './errors.ts';

/** How long a passed connection test lets the same credentials be saved. */
export const TEST_VALID_SECONDS = 60 * 60;

/** Runs `fn` in a short transaction as the calling user. */
export type RunInTx = <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>;

export type Caller = { workspaceId: string; userId: string };

export function webhookUrl(deps: AppDeps): string {
  return `${deps.config.publicUrl}/webhooks/shopify`;
}

/** The canonical `<shop>.myshopify.com` of what an owner typed, or BAD_REQUEST on `field`. */
export function shopDomainOrRefuse(input: string, field: string): string {
  const r = normalizeShopDomain(input);
  if (!r.ok) throw new IntegrationError('BAD_REQUEST', r.reason, field);
  return r.domain;
}

/** A keyed fingerprint of the credentials that passed a test: proves "the same token" without storing it. */
function credentialFingerprint(
  key: EncryptionKey,
  workspaceId: string,
  shopDomain: string,
  token: string,
): Buffer {
  const k = Buffer.from(
    hkdfSync('sha256', key.bytes, Buffer.alloc(0), 'crm connection-test fingerprint', 32),
  );
  return createHmac('sha256', k).update(`${workspaceId}\0${shopDomain}\0${token}`, 'utf8').digest();
}

const loggedWarnings = new Set<string>();
/** An API version warning is logged once per process, however often Shopify repeats it. */
export function logApiWarningOnce(deps: AppDeps, warning: string): void {
  if (loggedWarnings.has(warning)) return;
  loggedWarnings.add(warning);
  deps.log.warn('shopify api version', { warning });
}

/** Removes any occurrence of a secret from a text that is about to leave the server. */
export function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
  return out;
}

/** A Shopify Admin API failure as BAD_GATEWAY with the client's owner-readable message (token scrubbed). */
async function callShopify<T>(token: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ShopifyAdminError) {
      throw new IntegrationError('BAD_GATEWAY', scrub(error.message, [token]));
    }
    throw error;
  }
}

function storedShopDomain(row: IntegrationRow | null): string | null {
  const d = row?.config.shopDomain;
  return typeof d === 'string' && d !== '' ? d : null;
}

/** The stored credentials, decrypted for one call to Shopify. */
function storedCredentials(deps: AppDeps, row: IntegrationRow): { shopDomain: string; accessToken: string } {
  const shopDomain = storedShopDomain(row);
  if (!shopDomain || !row.accessTokenEnc) {
    throw new IntegrationError(
      'PRECONDITION_FAILED',
      'Save the shop domain and access token before doing this.',
    );
  }
  return { shopDomain, accessToken: decryptSecret(row.accessTokenEnc, deps.key) };
}

export type ConnectionTestOutcome =
  | {
      ok: true;
      shopDomain: string;
      shopName: string;
      scopes: string[];
      protectedCustomerData: boolean;
      warnings: string[];
      testedAt: Date;
    }
  | { ok: false; shopDomain: string; reason: ConnectionFailureReason; message: string };

/**
 * Calls the Admin API with the given shop domain and token (either omitted: the stored one) and
 * reports the shop's name or why it failed. A pass is remembered so `save` accepts these credentials.
 */
export async function testIntegrationConnection(
  deps: AppDeps,
  db: RunInTx,
  caller: Caller,
  input: { shopDomain?: string | undefined; accessToken?: string | undefined },
): Promise<ConnectionTestOutcome> {
  const row = await db((tx) => getShopifyIntegration(tx, caller.workspaceId));
  const rawDomain = input.shopDomain?.trim() ? input.shopDomain : storedShopDomain(row);
  if (!rawDomain) throw new IntegrationError('BAD_REQUEST', 'Enter the shop domain.', 'shopDomain');
  const shopDomain = shopDomainOrRefuse(rawDomain, 'shopDomain');
  let accessToken = input.accessToken;
  if (accessToken === undefined) {
    if (!row?.accessTokenEnc) {
      throw new IntegrationError('BAD_REQUEST', 'Enter the Admin API access token.', 'accessToken');
    }
    accessToken = decryptSecret(row.accessTokenEnc, deps.key);
  }
  const token = accessToken;
  const result = await callShopify(token, () =>
    testConnection(deps.config, { shopDomain, accessToken: token }),
  );
  if (!result.ok) {
    return { ok: false, shopDomain, reason: result.reason, message: scrub(result.message, [token]) };
  }
  const testedAt = await db((tx) =>
    recordConnectionTest(tx, {
      workspaceId: caller.workspaceId,
      fingerprint: credentialFingerprint(deps.key, caller.workspaceId, shopDomain, token),
      shopDomain,
      shopName: result.shopName,
      testedBy: caller.userId,
    }),
  );
  for (const warning of result.warnings) logApiWarningOnce(deps, warning);
  return {
    ok: true,
    shopDomain,
    shopName: scrub(result.shopName, [token]),
    scopes: result.scopes,
    protectedCustomerData: result.protectedCustomerData,
    warnings: result.warnings,
    testedAt,
  };
}

export type SaveInput = {
  name?: string | undefined;
  config: IntegrationConfig;
  accessToken?: string | undefined;
  webhookSecret?: string | undefined;
};

/** When the credentials being saved passed a test (or the stored, tested ones are kept unchanged). */
async function testedAtForSave(
  tx: Tx,
  deps: AppDeps,
  workspaceId: string,
  existing: IntegrationRow | null,
  shopDomain: string,
  accessToken: string | undefined,
): Promise<Date | null> {
  const unchanged =
    existing !== null &&
    accessToken === undefined &&
    storedShopDomain(existing) === shopDomain &&
    existing.credentialsTestedAt !== null;
  if (unchanged) return existing.credentialsTestedAt;
  let token = accessToken;
  if (token === undefined) {
    if (!existing?.accessTokenEnc) {
      throw new IntegrationError('BAD_REQUEST', 'Enter the Admin API access token.', 'accessToken');
    }
    token = decryptSecret(existing.accessTokenEnc, deps.key);
  }
  const testedAt = await findPassedConnectionTest(tx, {
    workspaceId,
    fingerprint: credentialFingerprint(deps.key, workspaceId, shopDomain, token),
    withinSeconds: TEST_VALID_SECONDS,
  });
  if (!testedAt) {
    throw new IntegrationError(
      'PRECONDITION_FAILED',
      'These credentials have not passed a connection test. Run "Test connection" with this shop domain and access token, then save.',
      'accessToken',
    );
  }
  return testedAt;
}

/** The pipeline and stage to store: a stage of another pipeline is reset when the pipeline changes. */
async function pipelineAndStage(
  tx: Tx,
  workspaceId: string,
  existing: IntegrationRow | null,
  config: IntegrationConfig,
): Promise<{ pipelineId: string | null; stageId: string | null }> {
  const { pipelineId } = config;
  let { stageId } = config;
  if (pipelineId === null) {
    if (stageId !== null) {
      throw new IntegrationError('BAD_REQUEST', 'Choose a pipeline for the stage.', 'config.pipelineId');
    }
    return { pipelineId, stageId };
  }
  const check = await checkPipelineStage(tx, { workspaceId, pipelineId, stageId });
  if (!check.pipelineExists) {
    throw new IntegrationError(
      'BAD_REQUEST',
      'The chosen pipeline does not exist in this workspace.',
      'config.pipelineId',
    );
  }
  const previousPipeline = existing?.config.pipelineId ?? null;
  if (stageId !== null && !check.stageInPipeline) {
    if (previousPipeline !== pipelineId) stageId = null;
    else
      throw new IntegrationError(
        'BAD_REQUEST',
        'The chosen stage is not in the chosen pipeline.',
        'config.stageId',
      );
  }
  return { pipelineId, stageId };
}

const encrypted = (deps: AppDeps, secret: string | undefined) =>
  secret === undefined ? undefined : { enc: encryptSecret(secret, deps.key), last4: secretHint(secret) };

/**
 * Creates or updates the integration. Credentials (shop domain + access token) must have passed a
 * connection test within the last hour; an omitted token or secret keeps the stored one. Changing the
 * pipeline resets the stage unless the given stage belongs to the new pipeline.
 */
export async function saveIntegration(
  tx: Tx,
  deps: AppDeps,
  workspaceId: string,
  input: SaveInput,
): Promise<IntegrationRow> {
  const existing = await getShopifyIntegration(tx, workspaceId, { forUpdate: true });
  const shopDomain = shopDomainOrRefuse(input.config.shopDomain, 'config.shopDomain');
  if (!existing && (input.accessToken === undefined || input.webhookSecret === undefined)) {
    throw new IntegrationError(
      'BAD_REQUEST',
      'Enter the Admin API access token and the webhook signing secret.',
      input.accessToken === undefined ? 'accessToken' : 'webhookSecret',
    );
  }
  const testedAt = await testedAtForSave(tx, deps, workspaceId, existing, shopDomain, input.accessToken);
  const { pipelineId, stageId } = await pipelineAndStage(tx, workspaceId, existing, input.config);
  const accessToken = encrypted(deps, input.accessToken);
  const webhookSecret = encrypted(deps, input.webhookSecret);
  return upsertShopifyIntegration(tx, existing?.id ?? null, {
    workspaceId,
    name: input.name ?? existing?.name ?? 'Shopify',
    config: { ...input.config, shopDomain, pipelineId, stageId },
    ...(accessToken ? { accessToken } : {}),
    ...(webhookSecret ? { webhookSecret } : {}),
    credentialsTestedAt: testedAt,
  });
}

/** Turns the integration on or off (off: webhooks for the shop are acknowledged and ignored). */
export async function setIntegrationEnabled(tx: Tx, workspaceId: string, enabled: boolean): Promise<void> {
  if (!(await setIntegrationActive(tx, workspaceId, enabled))) throw noIntegration();
}

/** Deletes the integration and its events; orders imported from it stay. */
export function deleteIntegration(tx: Tx, workspaceId: string): Promise<boolean> {
  return deleteShopifyIntegration(tx, workspaceId);
}

async function requireCredentials(deps: AppDeps, db: RunInTx, workspaceId: string) {
  const row = await db((tx) => getShopifyIntegration(tx, workspaceId));
  if (!row) throw noIntegration();
  return storedCredentials(deps, row);
}

/** Registers every webhook topic the product needs on the store, at this server's webhook URL. */
export async function registerIntegrationWebhooks(
  deps: AppDeps,
  db: RunInTx,
  workspaceId: string,
): Promise<{ address: string; subscriptions: WebhookSubscription[] }> {
  const creds = await requireCredentials(deps, db, workspaceId);
  const address = webhookUrl(deps);
  const subscriptions = await callShopify(creds.accessToken, () =>
    registerWebhooks(deps.config, creds, address),
  );
  return { address, subscriptions };
}

/** Checks the store's webhook subscriptions and re-creates any that Shopify deleted. */
export async function checkSubscriptionHealth(
  deps: AppDeps,
  db: RunInTx,
  workspaceId: string,
): Promise<{ address: string; health: SubscriptionHealth }> {
  const creds = await requireCredentials(deps, db, workspaceId);
  const address = webhookUrl(deps);
  const health = await callShopify(creds.accessToken, () =>
    ensureWebhookSubscriptions(deps.config, creds, address),
  );
  return { address, health };
}
