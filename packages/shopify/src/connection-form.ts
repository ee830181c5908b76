/**
 * The integration page's connection form, one zod schema for the SPA (react-hook-form's resolver)
 * and the API (the tRPC inputs): browser-safe (zod only). Field names are the input paths the API
 * names in its errors, so a refusal lands beside its field.
 */
import { z } from 'zod';

/** A Dev Dashboard app's client ID (not a secret: it is shown back to the owner). */
export const clientIdSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_-]{8,200}$/, {
    error: 'A client ID is the letters and digits shown in the Dev Dashboard (Settings).',
  });

/** "Dev Dashboard app" credentials: shop domain, client ID and client secret. */
export const clientCredentialsFormSchema = z.object({
  shopDomain: z
    .string()
    .trim()
    .min(1, { error: "Enter the store's domain, e.g. mystore.myshopify.com." })
    .max(300),
  clientId: clientIdSchema,
  clientSecret: z
    .string()
    .trim()
    .min(32, {
      error: 'The client secret is the long value under Settings in the Dev Dashboard (32+ characters).',
    })
    .max(1024),
});
export type ClientCredentialsForm = z.infer<typeof clientCredentialsFormSchema>;

/** "Connect with Shopify": the shop domain only. */
export const connectFormSchema = z.object({
  shopDomain: clientCredentialsFormSchema.shape.shopDomain,
});
export type ConnectForm = z.infer<typeof connectFormSchema>;
