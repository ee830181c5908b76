import type { Queryable } from '../client.ts';
import { UNINSTALLED_REASON } from '../integration-tokens.ts';

/**
 * An integration row as the owner path reads it. The `*Enc` fields are AES-GCM ciphertexts: callers
 * decrypt them only to call Shopify and never return them.
 */
export type IntegrationRow = {
  id: string;
  workspaceId: string;
  type: 'shopify';
  name: string;
  config: Record<string, unknown>;
  accessTokenEnc: string | null;
  webhookSecretEnc: string | null;
  accessTokenLast4: string | null;
  webhookSecretLast4: string | null;
  credentialsTestedAt: Date | null;
  isActive: boolean;
  lastSyncAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  connectionMethod: 'legacy' | 'client_credentials' | 'oauth';
  clientId: string | null;
  clientSecretEnc: string | null;
  accessTokenExpiresAt: Date | null;
  tokenRenewedAt: Date | null;
  needsReconnectionAt: Date | null;
  needsReconnectionReason: string | null;
  apiWarning: string | null;
};

const INTEGRATION_COLUMNS = (tx: Queryable) => tx`
  id, workspace_id as "workspaceId", type, name, config,
  access_token_enc as "accessTokenEnc", webhook_secret_enc as "webhookSecretEnc",
  access_token_last4 as "accessTokenLast4", webhook_secret_last4 as "webhookSecretLast4",
  credentials_tested_at as "credentialsTestedAt", is_active as "isActive",
  last_sync_at as "lastSyncAt", created_at as "createdAt", updated_at as "updatedAt",
  connection_method as "connectionMethod", client_id as "clientId", client_secret_enc as "clientSecretEnc",
  access_token_expires_at as "accessTokenExpiresAt", token_renewed_at as "tokenRenewedAt",
  needs_reconnection_at as "needsReconnectionAt", needs_reconnection_reason as "needsReconnectionReason",
  api_warning as "apiWarning"`;

export async function getShopifyIntegration(
  tx: Queryable,
  workspaceId: string,
  options: { forUpdate?: boolean } = {},
): Promise<IntegrationRow | null> {
  const lock = options.forUpdate ? tx`for update` : tx``;
  const [row] = await tx<IntegrationRow[]>`
    select ${INTEGRATION_COLUMNS(tx)}
    from integrations where workspace_id = ${workspaceId} and type = 'shopify'
    ${lock}`;
  return row ?? null;
}

export type IntegrationWrite = {
  workspaceId: string;
  name: string;
  config: Record<string, unknown>;
  /** New ciphertext and last 4 (null: too short to show any); undefined keeps the stored one. */
  accessToken?: { enc: string; last4: string | null };
  webhookSecret?: { enc: string; last4: string | null };
  credentialsTestedAt: Date | null;
  /**
   * How the store is connected. Changing it drops the other method's credentials; undefined keeps
   * the stored method. A client credentials connection gets its first token on first use.
   */
  connection?:
    | { method: 'legacy' }
    | { method: 'client_credentials'; clientId: string; clientSecretEnc?: string }
    | {
        method: 'oauth';
        accessTokenExpiresAt: Date | null;
        refreshTokenEnc: string | null;
        refreshTokenExpiresAt: Date | null;
      };
};

/**
 * Inserts the workspace's Shopify integration (`existingId` null), or updates the row the caller
 * read (and locked) in this transaction. Returns the row as written, so nobody reads it again.
 */
export async function upsertShopifyIntegration(
  tx: Queryable,
  existingId: string | null,
  w: IntegrationWrite,
): Promise<IntegrationRow> {
  if (existingId === null) {
    const c = w.connection ?? { method: 'legacy' as const };
    const cc = c.method === 'client_credentials' ? c : null;
    const oauth = c.method === 'oauth' ? c : null;
    if (!w.webhookSecret || (!w.accessToken && !cc?.clientSecretEnc)) {
      throw new Error('a new integration needs its credentials and webhook secret');
    }
    const [row] = await tx<IntegrationRow[]>`
      insert into integrations (workspace_id, type, name, config, access_token_enc, access_token_last4,
                                webhook_secret_enc, webhook_secret_last4, credentials_tested_at, is_active,
                                connection_method, client_id, client_secret_enc, access_token_expires_at,
                                refresh_token_enc, refresh_token_expires_at, token_renewed_at)
      values (${w.workspaceId}, 'shopify', ${w.name}, ${tx.json(w.config as never)},
              ${w.accessToken?.enc ?? null}, ${w.accessToken?.last4 ?? null}, ${w.webhookSecret.enc},
              ${w.webhookSecret.last4}, ${w.credentialsTestedAt}, true, ${c.method}, ${cc?.clientId ?? null},
              ${cc?.clientSecretEnc ?? null}, ${oauth?.accessTokenExpiresAt ?? null},
              ${oauth?.refreshTokenEnc ?? null}, ${oauth?.refreshTokenExpiresAt ?? null},
              ${oauth ? new Date() : null})
      returning ${INTEGRATION_COLUMNS(tx)}`;
    if (!row) throw new Error('integration not created');
    return row;
  }
  const token = w.accessToken;
  const secret = w.webhookSecret;
  // A rotated webhook secret keeps the previous one valid for a day, so deliveries signed in flight
  // still verify.
  const [row] = await tx<IntegrationRow[]>`
    update integrations set
      name = ${w.name},
      config = ${tx.json(w.config as never)},
      access_token_enc = coalesce(${token?.enc ?? null}, access_token_enc),
      access_token_last4 = case when ${token?.enc ?? null}::text is not null
        then ${token?.last4 ?? null}::text else access_token_last4 end,
      webhook_secret_previous_enc = case when ${secret?.enc ?? null}::text is not null
        then webhook_secret_enc else webhook_secret_previous_enc end,
      webhook_secret_previous_expires_at = case when ${secret?.enc ?? null}::text is not null
        then now() + interval '1 day' else webhook_secret_previous_expires_at end,
      webhook_secret_enc = coalesce(${secret?.enc ?? null}, webhook_secret_enc),
      webhook_secret_last4 = case when ${secret?.enc ?? null}::text is not null
        then ${secret?.last4 ?? null}::text else webhook_secret_last4 end,
      credentials_tested_at = ${w.credentialsTestedAt},
      updated_at = now()
    where id = ${existingId} and workspace_id = ${w.workspaceId}
    returning ${INTEGRATION_COLUMNS(tx)}`;
  if (!row) throw new Error('integration not updated');
  return w.connection ? setConnection(tx, existingId, w.connection, token !== undefined) : row;
}

/** Switches the connection method (or refreshes its credentials), dropping the other method's. */
async function setConnection(
  tx: Queryable,
  id: string,
  c: NonNullable<IntegrationWrite['connection']>,
  newAccessToken: boolean,
): Promise<IntegrationRow> {
  const cc = c.method === 'client_credentials' ? c : null;
  const oauth = c.method === 'oauth' ? c : null;
  const [row] = await tx<IntegrationRow[]>`
    update integrations set
      connection_method = ${c.method},
      client_id = ${cc?.clientId ?? null},
      client_secret_enc = case when ${c.method} = 'client_credentials'
        then coalesce(${cc?.clientSecretEnc ?? null}, client_secret_enc) end,
      -- A client credentials connection gets a fresh token from its (possibly new) secret.
      access_token_enc = case when ${c.method} = 'client_credentials' and not ${newAccessToken} then null
        else access_token_enc end,
      access_token_last4 = case when ${c.method} = 'client_credentials' and not ${newAccessToken} then null
        else access_token_last4 end,
      access_token_expires_at = ${oauth?.accessTokenExpiresAt ?? null},
      refresh_token_enc = ${oauth?.refreshTokenEnc ?? null},
      refresh_token_expires_at = ${oauth?.refreshTokenExpiresAt ?? null},
      token_renewed_at = ${oauth ? new Date() : null},
      is_active = is_active or needs_reconnection_reason is not distinct from ${UNINSTALLED_REASON},
      needs_reconnection_at = null,
      needs_reconnection_reason = null
    where id = ${id}
    returning ${INTEGRATION_COLUMNS(tx)}`;
  if (!row) throw new Error('integration not updated');
  return row;
}

export async function setIntegrationActive(
  tx: Queryable,
  workspaceId: string,
  active: boolean,
): Promise<boolean> {
  const rows = await tx`
    update integrations set is_active = ${active}, updated_at = now()
    where workspace_id = ${workspaceId} and type = 'shopify' returning id`;
  return rows.length > 0;
}

/** Deletes the integration; its orders stay (orders.integration_id is set null), its events go. */
export async function deleteShopifyIntegration(tx: Queryable, workspaceId: string): Promise<boolean> {
  const rows = await tx`
    delete from integrations where workspace_id = ${workspaceId} and type = 'shopify' returning id`;
  await tx`delete from integration_connection_tests where workspace_id = ${workspaceId}`;
  return rows.length > 0;
}

export async function recordConnectionTest(
  tx: Queryable,
  input: { workspaceId: string; fingerprint: Buffer; shopDomain: string; shopName: string; testedBy: string },
): Promise<Date> {
  await tx`
    delete from integration_connection_tests
    where workspace_id = ${input.workspaceId} and tested_at < now() - interval '1 day'`;
  const [row] = await tx<{ testedAt: Date }[]>`
    insert into integration_connection_tests (workspace_id, fingerprint, shop_domain, shop_name, tested_by)
    values (${input.workspaceId}, ${input.fingerprint}, ${input.shopDomain}, ${input.shopName}, ${input.testedBy})
    returning tested_at as "testedAt"`;
  if (!row) throw new Error('connection test not recorded');
  return row.testedAt;
}

/** When these exact credentials last passed a connection test within the window, or null. */
export async function findPassedConnectionTest(
  tx: Queryable,
  input: { workspaceId: string; fingerprint: Buffer; withinSeconds: number },
): Promise<Date | null> {
  const [row] = await tx<{ testedAt: Date }[]>`
    select tested_at as "testedAt" from integration_connection_tests
    where workspace_id = ${input.workspaceId} and fingerprint = ${input.fingerprint}
      and tested_at > now() - make_interval(secs => ${input.withinSeconds})
    order by tested_at desc limit 1`;
  return row?.testedAt ?? null;
}
