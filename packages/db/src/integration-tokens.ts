/**
 * The tokens of an integration, read and renewed by whoever calls Shopify: the owner path (as the
 * owner, under RLS) and the workers (in the integration's workspace). Renewal is single-flight across
 * every process: a transaction-scoped advisory lock on the integration, then a fresh read.
 */
import type { Queryable } from './client.ts';

export type ConnectionMethod = 'legacy' | 'client_credentials' | 'oauth';

export type IntegrationTokens = {
  id: string;
  workspaceId: string;
  connectionMethod: ConnectionMethod;
  shopDomain: string | null;
  clientId: string | null;
  clientSecretEnc: string | null;
  accessTokenEnc: string | null;
  accessTokenExpiresAt: Date | null;
  refreshTokenEnc: string | null;
  refreshTokenExpiresAt: Date | null;
  tokenRenewedAt: Date | null;
  needsReconnectionAt: Date | null;
};

const COLUMNS = (tx: Queryable) => tx`
  id, workspace_id as "workspaceId", connection_method as "connectionMethod",
  config->>'shopDomain' as "shopDomain", client_id as "clientId", client_secret_enc as "clientSecretEnc",
  access_token_enc as "accessTokenEnc", access_token_expires_at as "accessTokenExpiresAt",
  refresh_token_enc as "refreshTokenEnc", refresh_token_expires_at as "refreshTokenExpiresAt",
  token_renewed_at as "tokenRenewedAt", needs_reconnection_at as "needsReconnectionAt"`;

export async function readIntegrationTokens(
  tx: Queryable,
  integrationId: string,
): Promise<IntegrationTokens | null> {
  const [row] = await tx<
    IntegrationTokens[]
  >`select ${COLUMNS(tx)} from integrations where id = ${integrationId}`;
  return row ?? null;
}

/**
 * Takes the integration's renewal lock for the rest of the transaction (other processes renewing
 * the same integration wait here), then reads the tokens as they are now.
 */
export async function lockIntegrationTokens(
  tx: Queryable,
  integrationId: string,
): Promise<IntegrationTokens | null> {
  await tx`select pg_advisory_xact_lock(hashtextextended(${`shopify-token:${integrationId}`}, 0))`;
  return readIntegrationTokens(tx, integrationId);
}

export type RenewedTokens = {
  accessTokenEnc: string;
  accessTokenLast4: string;
  accessTokenExpiresAt: Date | null;
  /** Undefined keeps the stored refresh token (client credentials have none). */
  refreshTokenEnc?: string | null;
  refreshTokenExpiresAt?: Date | null;
};

/** Stores renewed tokens; a renewal that worked clears "needs reconnection". */
export async function storeRenewedTokens(
  tx: Queryable,
  integrationId: string,
  t: RenewedTokens,
): Promise<void> {
  const keepRefresh = t.refreshTokenEnc === undefined;
  await tx`
    update integrations set
      access_token_enc = ${t.accessTokenEnc},
      access_token_last4 = ${t.accessTokenLast4},
      access_token_expires_at = ${t.accessTokenExpiresAt},
      refresh_token_enc = case when ${keepRefresh} then refresh_token_enc else ${t.refreshTokenEnc ?? null} end,
      refresh_token_expires_at = case when ${keepRefresh} then refresh_token_expires_at
        else ${t.refreshTokenExpiresAt ?? null}::timestamptz end,
      token_renewed_at = now(),
      needs_reconnection_at = null,
      needs_reconnection_reason = null
    where id = ${integrationId}`;
}

/**
 * The needs-reconnection reason app/uninstalled records. A new connection of the store (a completed
 * Connect with Shopify, or credentials saved again) clears it and re-activates the integration that
 * the uninstall deactivated; an integration the owner disabled stays disabled.
 */
export const UNINSTALLED_REASON =
  'The app was uninstalled from the store: Shopify no longer accepts its tokens. Reconnect to sync again.';

/**
 * Shopify refused what renewal could not fix: the owner must reconnect; nothing else stops. The first
 * reason stays until a reconnection clears it (it names the cause, e.g. the uninstall; later refusals
 * are its consequences).
 */
export async function markNeedsReconnection(
  tx: Queryable,
  integrationId: string,
  reason: string,
): Promise<void> {
  await tx`
    update integrations set needs_reconnection_at = coalesce(needs_reconnection_at, now()),
      needs_reconnection_reason = case when needs_reconnection_at is null then ${reason}
        else needs_reconnection_reason end
    where id = ${integrationId}`;
}

/** Remembers the last API version warning Shopify gave (shown on the integration page). */
export async function recordApiWarning(
  tx: Queryable,
  integrationId: string,
  warning: string | null,
): Promise<void> {
  await tx`update integrations set api_warning = ${warning} where id = ${integrationId} and api_warning is distinct from ${warning}`;
}
