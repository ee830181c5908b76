import { storedSecretLength } from '@crm/db';
import { getShopifyIntegration, type IntegrationRow } from '@crm/db/owner';
import { mayShowSecretHint, shopifySecretSchema } from '@crm/shopify';
import { clientIdSchema } from '@crm/shopify/connection-form';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { IntegrationError } from '../../integrations/errors.ts';
import { connectionHealth } from '../../integrations/health.ts';
import { oauthRedirectUrl, startShopifyConnect } from '../../integrations/oauth.ts';
import {
  checkSubscriptionHealth,
  deleteIntegration,
  registerIntegrationWebhooks,
  saveIntegration,
  setIntegrationEnabled,
  testIntegrationConnection,
  webhookUrl,
} from '../../integrations/service.ts';
import { PROTECTED_DATA_HINT } from '../../shopify-admin/client.ts';
import {
  type IntegrationView,
  integrationConfigSchema,
  integrationViewSchema,
  iso,
  isoDate,
  isoOrNull,
  roleSchema,
  storedConfigSchema,
} from '../schemas.ts';
import { ownerActionProcedure, ownerProcedure, router, workspaceProcedure } from '../trpc.ts';

export { webhookUrl };

/** A stored secret's last 4, only when the secret is long enough for them to reveal little. */
function hint(enc: string | null, last4: string | null): string | null {
  return enc && mayShowSecretHint(storedSecretLength(enc)) ? last4 : null;
}

/** The integration as any member may see it: never a credential, only whether it is set and its last 4. */
export function integrationView(row: IntegrationRow): IntegrationView {
  const config = storedConfigSchema.parse(row.config);
  return {
    id: row.id,
    type: 'shopify',
    name: row.name,
    config,
    credentials: {
      accessToken: {
        set: row.accessTokenEnc !== null,
        last4: hint(row.accessTokenEnc, row.accessTokenLast4),
      },
      webhookSecret: {
        set: row.webhookSecretEnc !== null,
        last4: hint(row.webhookSecretEnc, row.webhookSecretLast4),
      },
    },
    credentialsTestedAt: isoOrNull(row.credentialsTestedAt),
    connection: {
      method: row.connectionMethod,
      clientId: row.clientId,
      accessTokenExpiresAt: isoOrNull(row.accessTokenExpiresAt),
      tokenRenewedAt: isoOrNull(row.tokenRenewedAt),
      needsReconnection: row.needsReconnectionAt !== null,
      needsReconnectionReason: row.needsReconnectionReason,
      apiWarning: row.apiWarning,
    },
    isActive: row.isActive,
    lastSyncAt: isoOrNull(row.lastSyncAt),
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

/** Runs a service call, turning its refusals into tRPC errors of the same code (the cause keeps the field). */
async function service<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof IntegrationError) {
      throw new TRPCError({ code: error.code, message: error.message, cause: error });
    }
    throw error;
  }
}

/** Credentials as typed in: the one rule of packages/shopify (32+ printable characters). */
const tokenInput = shopifySecretSchema('access token');
const secretInput = shopifySecretSchema('webhook signing secret');
const clientSecretInput = shopifySecretSchema('client secret');
/** A Dev Dashboard app's client ID (not a secret: shown back to the owner). */
const clientIdInput = clientIdSchema;
/** Methods an owner can set up in the form; "Connect with Shopify" goes through its own flow. */
const formMethodSchema = z.enum(['legacy', 'client_credentials']);
const credentialInputs = {
  method: formMethodSchema.optional(),
  accessToken: tokenInput.optional(),
  clientId: clientIdInput.optional(),
  clientSecret: clientSecretInput.optional(),
};

export const connectionTestResultSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    shopDomain: z.string(),
    shopName: z.string(),
    scopes: z.array(z.string()),
    /** False when Shopify withholds customer names, emails, phones and addresses from the app. */
    protectedCustomerData: z.boolean(),
    /** What to request in the Dev Dashboard when protected customer data is withheld. */
    protectedDataHint: z.string().nullable(),
    /** API version fall-forward or deprecation warnings Shopify gave. */
    warnings: z.array(z.string()),
    testedAt: isoDate,
  }),
  z.object({
    ok: z.literal(false),
    shopDomain: z.string(),
    reason: z.enum(['bad_token', 'unknown_shop', 'missing_scope', 'unreachable']),
    message: z.string(),
  }),
]);

const subscriptionSchema = z.object({ id: z.string(), topic: z.string(), address: z.string() });

export const integrationsRouter = router({
  /** The workspace's Shopify integration (null when none), the webhook URL to paste, and what the user may do. */
  get: workspaceProcedure
    .output(
      z.object({
        integration: integrationViewSchema.nullable(),
        webhookUrl: z.string(),
        role: roleSchema,
        canEdit: z.boolean(),
        /** Whether "Connect with Shopify" is configured (SHOPIFY_API_KEY and SHOPIFY_API_SECRET). */
        connectWithShopify: z.boolean(),
        /** The redirect URL to allow-list in the app's configuration. */
        oauthRedirectUrl: z.string(),
        /** Orders imported without customer details, and deliveries in another API version. */
        health: z
          .object({ ordersWithoutCustomer: z.number().int(), deliveryApiWarning: z.string().nullable() })
          .nullable(),
      }),
    )
    .query(async ({ ctx }) => {
      const row = await getShopifyIntegration(ctx.tx, ctx.workspaceId);
      return {
        integration: row ? integrationView(row) : null,
        health: row ? await connectionHealth(ctx.deps, ctx.tx, row) : null,
        webhookUrl: webhookUrl(ctx.deps),
        role: ctx.role,
        canEdit: ctx.role === 'owner',
        connectWithShopify: ctx.deps.config.shopifyApp !== null,
        oauthRedirectUrl: oauthRedirectUrl(ctx.deps),
      };
    }),

  /**
   * Calls the Admin API with the given shop domain and token (either omitted: the stored one) and
   * reports the shop's name or why it failed. A pass is remembered so `save` accepts these credentials.
   */
  testConnection: ownerActionProcedure
    .input(z.object({ shopDomain: z.string().max(300).optional(), ...credentialInputs }))
    .output(connectionTestResultSchema)
    .mutation(async ({ ctx, input }) => {
      const r = await service(() =>
        testIntegrationConnection(
          ctx.deps,
          ctx.db,
          { workspaceId: ctx.workspaceId, userId: ctx.userId },
          input,
        ),
      );
      return r.ok
        ? {
            ...r,
            protectedDataHint: r.protectedCustomerData ? null : PROTECTED_DATA_HINT,
            testedAt: iso(r.testedAt),
          }
        : r;
    }),

  /**
   * Creates or updates the integration. Credentials (shop domain + access token) must have passed
   * `testConnection` within the last hour; an omitted token or secret keeps the stored one. Changing
   * the pipeline resets the stage unless the given stage belongs to the new pipeline.
   */
  save: ownerProcedure
    .input(
      z.object({
        /** Display name; omitted keeps the stored one ("Shopify" for a new integration). */
        name: z.string().trim().min(1).max(100).optional(),
        config: integrationConfigSchema,
        ...credentialInputs,
        webhookSecret: secretInput.optional(),
      }),
    )
    .output(integrationViewSchema)
    .mutation(async ({ ctx, input }) =>
      integrationView(await service(() => saveIntegration(ctx.tx, ctx.deps, ctx.workspaceId, input))),
    ),

  /**
   * "Connect with Shopify": records a single-use state for this owner, session and workspace and
   * returns the URL of Shopify's grant screen to send the browser to.
   */
  startConnect: ownerActionProcedure
    .input(z.object({ shopDomain: z.string().max(300) }))
    .output(z.object({ authorizeUrl: z.string() }))
    .mutation(async ({ ctx, input }) => {
      const sessionToken = ctx.sessionToken;
      if (!sessionToken) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in again.' });
      const authorizeUrl = await service(() =>
        startShopifyConnect(
          ctx.deps,
          ctx.db,
          { workspaceId: ctx.workspaceId, userId: ctx.userId, sessionToken },
          input.shopDomain,
        ),
      );
      return { authorizeUrl };
    }),

  /** Turns the integration on or off (off: webhooks for the shop are acknowledged and ignored). */
  setEnabled: ownerProcedure
    .input(z.object({ enabled: z.boolean() }))
    .output(z.object({ isActive: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      await service(() => setIntegrationEnabled(ctx.tx, ctx.workspaceId, input.enabled));
      return { isActive: input.enabled };
    }),

  /** Deletes the integration and its events; orders imported from it stay. */
  delete: ownerProcedure.output(z.object({ deleted: z.boolean() })).mutation(async ({ ctx }) => ({
    deleted: await deleteIntegration(ctx.tx, ctx.workspaceId),
  })),

  /** Registers every webhook topic the product needs on the store, at this server's webhook URL. */
  registerWebhooks: ownerActionProcedure
    .output(z.object({ address: z.string(), subscriptions: z.array(subscriptionSchema) }))
    .mutation(async ({ ctx }) => {
      const r = await service(() => registerIntegrationWebhooks(ctx.deps, ctx.db, ctx.workspaceId));
      return {
        address: r.address,
        subscriptions: r.subscriptions.map(({ id, topic, address }) => ({ id, topic, address })),
      };
    }),

  /** Checks the store's webhook subscriptions and re-creates any that Shopify deleted. */
  subscriptionHealth: ownerActionProcedure
    .output(
      z.object({
        address: z.string(),
        healthy: z.boolean(),
        topics: z.array(z.object({ topic: z.string(), present: z.boolean(), recreated: z.boolean() })),
      }),
    )
    .mutation(async ({ ctx }) => {
      const { address, health } = await service(() =>
        checkSubscriptionHealth(ctx.deps, ctx.db, ctx.workspaceId),
      );
      const topics = health.map(({ topic, present, recreated }) => ({ topic, present, recreated }));
      // Healthy: every topic is subscribed now (present before, or re-created by this check).
      return { address, healthy: topics.every((t) => t.present || t.recreated), topics };
    }),
});
