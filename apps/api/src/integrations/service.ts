/**
 * The integrations service: the rules of saving, testing, enabling, deleting a workspace's Shopify
 * integration and of its webhook subscriptions. The tRPC router keeps the input/output schemas and
 * who may call what; it hands this service parsed input and an open transaction (or `db`, for the
 * operations that call Shopify, which hold no transaction open across the network call).
 *
 * Each transaction reads the integration row once (saving locks it `for update` and writes it back
 * with `returning`).
 */
import { encryptSecret, recordApiWarning, type Tx } from '@crm/db';
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
  type ShopCredentials,
  ShopifyAdminError,
  type SubscriptionHealth,
  testConnection,
  type WebhookSubscription,
} from '../shopify-admin/client.ts';
import { logApiWarningOnce } from './api-warnings.ts';
import {
  type CredentialsInput,
  credentialFingerprint,
  credentialsToTest,
  type Method,
  materialToSave,
  methodOf,
  storedShopDomain,
} from './connection.ts';
import { IntegrationError, noIntegration } from './errors.ts';
import { integrationCredentials, type RunInTx } from './token-store.ts';

/** How long a passed connection test lets the same credentials be saved. */
export const TEST_VALID_SECONDS = 60 * 60;

export type { RunInTx };

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

export { logApiWarningOnce } from './api-warnings.ts';

/** Removes any occurrence of a secret from a text that is about to leave the server. */
export function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
  return out;
}

/** A Shopify Admin API failure as BAD_GATEWAY with the client's owner-readable message (token scrubbed). */
async function callShopify<T>(secrets: string[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ShopifyAdminError) {
      throw new IntegrationError('BAD_GATEWAY', scrub(error.message, secrets));
    }
    throw error;
  }
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
  input: CredentialsInput & { shopDomain?: string | undefined },
): Promise<ConnectionTestOutcome> {
  const row = await db((tx) => getShopifyIntegration(tx, caller.workspaceId));
  const rawDomain = input.shopDomain?.trim() ? input.shopDomain : storedShopDomain(row);
  if (!rawDomain) throw new IntegrationError('BAD_REQUEST', 'Enter the shop domain.', 'shopDomain');
  const shopDomain = shopDomainOrRefuse(rawDomain, 'shopDomain');
  const { creds, secrets, material } = await callShopify(secrets0(input), () =>
    credentialsToTest(deps, db, row, shopDomain, input),
  );
  const result = await callShopify(secrets, () => testConnection(deps.config, creds));
  if (!result.ok) {
    return { ok: false, shopDomain, reason: result.reason, message: scrub(result.message, secrets) };
  }
  const testedAt = await db(async (tx) => {
    if (material === null) return new Date();
    return recordConnectionTest(tx, {
      workspaceId: caller.workspaceId,
      fingerprint: credentialFingerprint(deps.key, caller.workspaceId, shopDomain, material),
      shopDomain,
      shopName: result.shopName,
      testedBy: caller.userId,
    });
  });
  for (const warning of result.warnings) logApiWarningOnce(deps, warning);
  if (row && material === null) {
    await db((tx) => recordApiWarning(tx, row.id, result.warnings[0] ?? null));
  }
  return {
    ok: true,
    shopDomain,
    shopName: scrub(result.shopName, secrets),
    scopes: result.scopes,
    protectedCustomerData: result.protectedCustomerData,
    warnings: result.warnings,
    testedAt,
  };
}

const secrets0 = (input: CredentialsInput): string[] =>
  [input.accessToken, input.clientSecret].filter((v): v is string => v !== undefined);

export type SaveInput = CredentialsInput & {
  name?: string | undefined;
  config: IntegrationConfig;
  webhookSecret?: string | undefined;
};

/** When the credentials being saved passed a test (or the stored, tested ones are kept unchanged). */
async function testedAtForSave(
  tx: Tx,
  deps: AppDeps,
  workspaceId: string,
  existing: IntegrationRow | null,
  shopDomain: string,
  material: string | null,
): Promise<Date | null> {
  if (material === null) return existing?.credentialsTestedAt ?? null;
  const testedAt = await findPassedConnectionTest(tx, {
    workspaceId,
    fingerprint: credentialFingerprint(deps.key, workspaceId, shopDomain, material),
    withinSeconds: TEST_VALID_SECONDS,
  });
  if (!testedAt) {
    throw new IntegrationError(
      'PRECONDITION_FAILED',
      'These credentials have not passed a connection test. Run "Test connection" with this shop domain and these credentials, then save.',
      'credentials',
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
  const method = methodOf(input, existing);
  if (method === 'oauth' && existing?.connectionMethod !== 'oauth') {
    throw new IntegrationError('BAD_REQUEST', 'Use "Connect with Shopify" to connect this store.', 'method');
  }
  if (method === 'legacy' && existing?.connectionMethod !== 'legacy' && input.webhookSecret === undefined) {
    throw new IntegrationError(
      'BAD_REQUEST',
      existing
        ? 'Enter the webhook signing secret of the custom app.'
        : 'Enter the Admin API access token and the webhook signing secret.',
      input.accessToken === undefined ? 'accessToken' : 'webhookSecret',
    );
  }
  const material = materialToSave(deps, existing, shopDomain, method, input);
  const testedAt = await testedAtForSave(tx, deps, workspaceId, existing, shopDomain, material);
  const { pipelineId, stageId } = await pipelineAndStage(tx, workspaceId, existing, input.config);
  const accessToken = method === 'legacy' ? encrypted(deps, input.accessToken) : undefined;
  // Webhooks of a Dev Dashboard app are signed with its client secret.
  const webhookSecret = encrypted(
    deps,
    method === 'client_credentials' ? input.clientSecret : input.webhookSecret,
  );
  const connection = connectionToSave(deps, existing, method, input);
  return upsertShopifyIntegration(tx, existing?.id ?? null, {
    workspaceId,
    name: input.name ?? existing?.name ?? 'Shopify',
    config: { ...input.config, shopDomain, pipelineId, stageId },
    ...(accessToken ? { accessToken } : {}),
    ...(webhookSecret ? { webhookSecret } : {}),
    ...(connection ? { connection } : {}),
    credentialsTestedAt: testedAt,
  });
}

/** The connection to write: set when the method or the client credentials change. */
function connectionToSave(
  deps: AppDeps,
  existing: IntegrationRow | null,
  method: Method,
  input: CredentialsInput,
) {
  if (method === 'client_credentials') {
    const clientId = input.clientId ?? existing?.clientId;
    if (!clientId) throw new IntegrationError('BAD_REQUEST', "Enter the app's client ID.", 'clientId');
    if (
      existing?.connectionMethod === method &&
      input.clientId === undefined &&
      input.clientSecret === undefined
    ) {
      return null;
    }
    return {
      method,
      clientId,
      ...(input.clientSecret !== undefined
        ? { clientSecretEnc: encryptSecret(input.clientSecret, deps.key) }
        : {}),
    } as const;
  }
  if (method === 'legacy' && existing && existing.connectionMethod !== 'legacy') return { method } as const;
  return null;
}

/** Turns the integration on or off (off: webhooks for the shop are acknowledged and ignored). */
export async function setIntegrationEnabled(tx: Tx, workspaceId: string, enabled: boolean): Promise<void> {
  if (!(await setIntegrationActive(tx, workspaceId, enabled))) throw noIntegration();
}

/** Deletes the integration and its events; orders imported from it stay. */
export function deleteIntegration(tx: Tx, workspaceId: string): Promise<boolean> {
  return deleteShopifyIntegration(tx, workspaceId);
}

async function requireCredentials(deps: AppDeps, db: RunInTx, workspaceId: string): Promise<ShopCredentials> {
  const row = await db((tx) => getShopifyIntegration(tx, workspaceId));
  if (!row) throw noIntegration();
  const shopDomain = storedShopDomain(row);
  if (!shopDomain) {
    throw new IntegrationError(
      'PRECONDITION_FAILED',
      'Save the shop domain and credentials before doing this.',
    );
  }
  return integrationCredentials(deps, db, { id: row.id, shopDomain });
}

/** Registers every webhook topic the product needs on the store, at this server's webhook URL. */
export async function registerIntegrationWebhooks(
  deps: AppDeps,
  db: RunInTx,
  workspaceId: string,
): Promise<{ address: string; subscriptions: WebhookSubscription[] }> {
  const creds = await requireCredentials(deps, db, workspaceId);
  const address = webhookUrl(deps);
  const subscriptions = await callShopify([], () => registerWebhooks(deps.config, creds, address));
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
  const health = await callShopify([], () => ensureWebhookSubscriptions(deps.config, creds, address));
  return { address, health };
}
