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
