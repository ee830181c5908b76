import { type IntegrationConfig, integrationConfigSchema } from '@crm/shopify/integration-config';

/** The config's schema lives with the SPA's form in @crm/shopify; the API re-exports it. */
export {
  type IntegrationConfig,
  integrationConfigSchema,
  productMatchingSchema,
} from '@crm/shopify/integration-config';

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
