import { isUuid } from '@crm/db';
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

/** The config as stored, every default filled in (a config saved before the shop was chosen has ''). */
export const integrationConfigOutputSchema = integrationConfigSchema.extend({ shopDomain: z.string() });
export type StoredConfig = z.output<typeof integrationConfigOutputSchema>;

/**
 * Reads a stored config leniently: a field that is missing or does not parse takes the schema's
 * default instead of failing the page (shopDomain, which has none, reads as '').
 */
function readStoredConfig(value: unknown): StoredConfig {
  const raw: Record<string, unknown> = value !== null && typeof value === 'object' ? { ...value } : {};
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(integrationConfigSchema.shape)) {
    const read = field.safeParse(raw[key]);
    const fallback = field.safeParse(undefined);
    out[key] = read.success ? read.data : fallback.success ? fallback.data : '';
  }
  return integrationConfigOutputSchema.parse(out);
}
export const storedConfigSchema = z.unknown().transform(readStoredConfig);

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

const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

export function decodeCursor(cursor: string): { ts: string; id: string } | null {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const [ts, id] = text.split('|');
  if (!ts || !id || !TS.test(ts) || !isUuid(id)) return null;
  return { ts, id };
}
