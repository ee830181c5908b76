/**
 * The credentials of a connection test or a save, by connection method. A test of new credentials
 * proves them with a keyed fingerprint (never the secret itself) that `save` looks for.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { decryptSecret, type EncryptionKey } from '@crm/db';
import type { IntegrationRow } from '@crm/db/owner';
import type { AppDeps } from '../deps.ts';
import { clientCredentialsGrant, GrantRefusedError } from '../shopify-admin/grants.ts';
import { type ShopCredentials, ShopifyAdminError } from '../shopify-admin/http.ts';
import { IntegrationError } from './errors.ts';
import { integrationCredentials, type RunInTx } from './token-store.ts';

export type Method = 'legacy' | 'client_credentials' | 'oauth';

export type CredentialsInput = {
  method?: 'legacy' | 'client_credentials' | undefined;
  accessToken?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
};

/** A keyed fingerprint of the credentials that passed a test: proves "the same credentials" without storing them. */
export function credentialFingerprint(
  key: EncryptionKey,
  workspaceId: string,
  shopDomain: string,
  material: string,
): Buffer {
  const k = Buffer.from(
    hkdfSync('sha256', key.bytes, Buffer.alloc(0), 'crm connection-test fingerprint', 32),
  );
  return createHmac('sha256', k).update(`${workspaceId}\0${shopDomain}\0${material}`, 'utf8').digest();
}

/** What a fingerprint covers: the static token, or the client ID and secret. */
export const materialOf = (m: {
  method: Method;
  accessToken?: string;
  clientId?: string;
  clientSecret?: string;
}) => (m.method === 'client_credentials' ? `cc\0${m.clientId}\0${m.clientSecret}` : (m.accessToken ?? ''));

export function storedShopDomain(row: IntegrationRow | null): string | null {
  const d = row?.config.shopDomain;
  return typeof d === 'string' && d !== '' ? d : null;
}

/** The method of a test or save: the one asked for, else the stored one, else legacy. */
export function methodOf(input: CredentialsInput, row: IntegrationRow | null): Method {
  return input.method ?? row?.connectionMethod ?? 'legacy';
}

export type TestCredentials = {
  creds: ShopCredentials;
  /** Secrets to scrub from anything that leaves the server. */
  secrets: string[];
  /** Fingerprint material of new credentials (null: the stored connection was tested). */
  material: string | null;
};

function stored(deps: AppDeps, enc: string | null): string | undefined {
  return enc ? decryptSecret(enc, deps.key) : undefined;
}

/**
 * Credentials to test: new ones (a static token, or a token from the client credentials grant) or,
 * when none are given for the stored shop and method, the stored connection with its own renewal.
 */
export async function credentialsToTest(
  deps: AppDeps,
  db: RunInTx,
  row: IntegrationRow | null,
  shopDomain: string,
  input: CredentialsInput,
): Promise<TestCredentials> {
  const method = methodOf(input, row);
  const sameConnection =
    row !== null && row.connectionMethod === method && storedShopDomain(row) === shopDomain;
  const nothingNew =
    input.accessToken === undefined && input.clientId === undefined && input.clientSecret === undefined;
  if (sameConnection && nothingNew && method !== 'legacy') {
    return {
      creds: integrationCredentials(deps, db, { id: row.id, shopDomain }),
      secrets: [],
      material: null,
    };
  }
  if (method === 'oauth') {
    throw new IntegrationError('BAD_REQUEST', 'Use "Connect with Shopify" to connect this store.', 'method');
  }
  if (method === 'client_credentials') {
    const own = row?.connectionMethod === 'client_credentials' ? row : null;
    const clientId = input.clientId ?? own?.clientId ?? undefined;
    const clientSecret = input.clientSecret ?? stored(deps, own?.clientSecretEnc ?? null);
    if (!clientId) throw new IntegrationError('BAD_REQUEST', "Enter the app's client ID.", 'clientId');
    if (!clientSecret)
      throw new IntegrationError('BAD_REQUEST', "Enter the app's client secret.", 'clientSecret');
    let accessToken: string;
    try {
      accessToken = (await clientCredentialsGrant(deps.config, shopDomain, { clientId, clientSecret }))
        .accessToken;
    } catch (error) {
      if (error instanceof GrantRefusedError) {
        throw new IntegrationError(
          'BAD_REQUEST',
          `Shopify refused the client ID and secret for ${shopDomain}: check them in the Dev Dashboard (the app → Settings), and that the app is installed on this store.`,
          'clientSecret',
        );
      }
      throw error;
    }
    return {
      creds: { shopDomain, accessToken },
      secrets: [clientSecret, accessToken],
      material: materialOf({ method, clientId, clientSecret }),
    };
  }
  const accessToken =
    input.accessToken ?? (row?.connectionMethod === 'legacy' ? stored(deps, row.accessTokenEnc) : undefined);
  if (!accessToken)
    throw new IntegrationError('BAD_REQUEST', 'Enter the Admin API access token.', 'accessToken');
  return {
    creds: { shopDomain, accessToken },
    secrets: [accessToken],
    material: materialOf({ method, accessToken }),
  };
}

/** Fingerprint material of what a save would store, or null when the stored, tested connection is kept. */
export function materialToSave(
  deps: AppDeps,
  existing: IntegrationRow | null,
  shopDomain: string,
  method: Method,
  input: CredentialsInput,
): string | null {
  const nothingNew =
    input.accessToken === undefined && input.clientId === undefined && input.clientSecret === undefined;
  const unchanged =
    existing !== null &&
    nothingNew &&
    existing.connectionMethod === method &&
    storedShopDomain(existing) === shopDomain &&
    existing.credentialsTestedAt !== null;
  if (unchanged || method === 'oauth') return null;
  if (method === 'client_credentials') {
    const own = existing?.connectionMethod === 'client_credentials' ? existing : null;
    const clientId = input.clientId ?? own?.clientId ?? undefined;
    const clientSecret = input.clientSecret ?? stored(deps, own?.clientSecretEnc ?? null);
    if (!clientId) throw new IntegrationError('BAD_REQUEST', "Enter the app's client ID.", 'clientId');
    if (!clientSecret)
      throw new IntegrationError('BAD_REQUEST', "Enter the app's client secret.", 'clientSecret');
    return materialOf({ method, clientId, clientSecret });
  }
  const accessToken =
    input.accessToken ??
    (existing?.connectionMethod === 'legacy' ? stored(deps, existing.accessTokenEnc) : undefined);
  if (!accessToken)
    throw new IntegrationError('BAD_REQUEST', 'Enter the Admin API access token.', 'accessToken');
  return materialOf({ method, accessToken });
}

export { ShopifyAdminError };
