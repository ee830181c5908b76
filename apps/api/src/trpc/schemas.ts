import { z } from 'zod';
import { integrationConfigSchema } from '../integration-config.ts';

/** Shared output shapes. Dates travel as ISO 8601 strings (UTC). */
export const isoDate = z.iso.datetime();
export const roleSchema = z.enum(['owner', 'admin', 'agent']);
export const okSchema = z.object({ ok: z.literal(true) });

export function iso(d: Date): string {
  return d.toISOString();
}
export function isoOrNull(d: Date | null): string | null {
  return d ? d.toISOString() : null;
}

export const connectionMethodSchema = z.enum(['legacy', 'client_credentials', 'oauth']);

export const credentialStateSchema = z.object({ set: z.boolean(), last4: z.string().nullable() });

/** The config as stored, every default filled in. */
export const integrationConfigOutputSchema = z.object({
  shopDomain: z.string(),
  pipelineId: z.uuid().nullable(),
  stageId: z.uuid().nullable(),
  productMatching: z.enum(['sku', 'name', 'value']),
  fuzzyMatching: z.boolean(),
  autoCreateOrders: z.boolean(),
  defaultPhoneCountry: z.string(),
});

/** Reads a stored config leniently: a missing or odd field takes its default instead of failing the page. */
export const storedConfigSchema = z.object({
  shopDomain: z.string().catch(''),
  pipelineId: z.uuid().nullable().catch(null),
  stageId: z.uuid().nullable().catch(null),
  productMatching: z.enum(['sku', 'name', 'value']).catch('sku'),
  fuzzyMatching: z.boolean().catch(true),
  autoCreateOrders: z.boolean().catch(true),
  defaultPhoneCountry: z.string().catch('CO'),
});

export const integrationViewSchema = z.object({
  id: z.uuid(),
  type: z.literal('shopify'),
  name: z.string(),
  config: integrationConfigOutputSchema,
  credentials: z.object({ accessToken: credentialStateSchema, webhookSecret: credentialStateSchema }),
  credentialsTestedAt: isoDate.nullable(),
  /** How the store is connected, and the state of its tokens (never a token). */
  connection: z.object({
    method: connectionMethodSchema,
    clientId: z.string().nullable(),
    accessTokenExpiresAt: isoDate.nullable(),
    tokenRenewedAt: isoDate.nullable(),
    needsReconnection: z.boolean(),
    needsReconnectionReason: z.string().nullable(),
    apiWarning: z.string().nullable(),
  }),
  isActive: z.boolean(),
  lastSyncAt: isoDate.nullable(),
  createdAt: isoDate,
  updatedAt: isoDate,
});
export type IntegrationView = z.infer<typeof integrationViewSchema>;

export { integrationConfigSchema };

/** An opaque keyset cursor: base64url of "<timestamp>|<uuid>". */
export const cursorSchema = z.string().max(200);

export function encodeCursor(ts: string, id: string): string {
  return Buffer.from(`${ts}|${id}`, 'utf8').toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

export function decodeCursor(cursor: string): { ts: string; id: string } | null {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const [ts, id] = text.split('|');
  if (!ts || !id || !TS.test(ts) || !UUID.test(id)) return null;
  return { ts, id };
}
