/**
 * The `integrations.config` jsonb of a Shopify integration: one schema, with its defaults, for the
 * API (tRPC inputs, the workers that read it) and the SPA's settings form. Browser-safe (zod only).
 */
import { z } from 'zod';

/** What a new integration starts with, where the owner has not chosen yet. */
export const INTEGRATION_CONFIG_DEFAULTS = {
  productMatching: 'sku',
  fuzzyMatching: true,
  autoCreateOrders: true,
  defaultPhoneCountry: 'CO',
} as const;

export const productMatchingSchema = z.enum(['sku', 'name', 'value']);

export const integrationConfigSchema = z.object({
  shopDomain: z.string().min(1),
  pipelineId: z.uuid().nullable().default(null),
  stageId: z.uuid().nullable().default(null),
  productMatching: productMatchingSchema.default(INTEGRATION_CONFIG_DEFAULTS.productMatching),
  fuzzyMatching: z.boolean().default(INTEGRATION_CONFIG_DEFAULTS.fuzzyMatching),
  autoCreateOrders: z.boolean().default(INTEGRATION_CONFIG_DEFAULTS.autoCreateOrders),
  defaultPhoneCountry: z
    .string()
    .regex(/^[A-Z]{2}$/, 'a two-letter country code such as CO or US')
    .default(INTEGRATION_CONFIG_DEFAULTS.defaultPhoneCountry),
});
export type IntegrationConfig = z.infer<typeof integrationConfigSchema>;
