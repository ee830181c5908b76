import { z } from 'zod';

/**
 * The `integrations.config` jsonb of a Shopify integration: one schema for the owner's form (tRPC)
 * and for the workers that read it.
 */
export const productMatchingSchema = z.enum(['sku', 'name', 'value']);

export const integrationConfigSchema = z.object({
  shopDomain: z.string().min(1),
  pipelineId: z.uuid().nullable().default(null),
  stageId: z.uuid().nullable().default(null),
  productMatching: productMatchingSchema.default('sku'),
  fuzzyMatching: z.boolean().default(true),
  autoCreateOrders: z.boolean().default(true),
  defaultPhoneCountry: z
    .string()
    .regex(/^[A-Z]{2}$/, 'a two-letter country code such as CO or US')
    .default('CO'),
});
export type IntegrationConfig = z.infer<typeof integrationConfigSchema>;

/** An integration as the workers use it: its row's ids plus its parsed config. */
export type IntegrationSettings = IntegrationConfig & {
  id: string;
  workspaceId: string;
  isActive: boolean;
};

/** The columns of an integration row the settings are made of (`@crm/db/worker`'s WorkerIntegrationRow). */
export type IntegrationRow = { id: string; workspaceId: string; isActive: boolean; config: unknown };

/**
 * The one place an integration row becomes IntegrationSettings: its config parsed with the schema's
 * defaults. Not ok when the saved config is incomplete; `issue` names the first problem
 * ("shopDomain: …").
 */
export function integrationSettingsOf(
  row: IntegrationRow,
): { ok: true; settings: IntegrationSettings } | { ok: false; issue: string } {
  const config = integrationConfigSchema.safeParse(row.config);
  if (!config.success) {
    const issue = config.error.issues[0];
    return { ok: false, issue: issue ? `${issue.path.join('.') || 'config'}: ${issue.message}` : 'invalid' };
  }
  return {
    ok: true,
    settings: { ...config.data, id: row.id, workspaceId: row.workspaceId, isActive: row.isActive },
  };
}
