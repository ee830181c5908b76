import { createHmac, hkdfSync } from 'node:crypto';
import { decryptSecret, type EncryptionKey, encryptSecret, last4, type Tx } from '@crm/db';
import {
  checkPipelineStage,
  deleteShopifyIntegration,
  findPassedConnectionTest,
  getShopifyIntegration,
  type IntegrationRow,
  recordConnectionTest,
  setIntegrationActive,
  upsertShopifyIntegration,
} from '@crm/db/owner';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { AppDeps } from '../../deps.ts';
import {
  ensureWebhookSubscriptions,
  registerWebhooks,
  ShopifyAdminError,
  testConnection,
} from '../../shopify-admin/client.ts';
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
import { shopDomainOrThrow } from '../shop-domain.ts';
import { ownerActionProcedure, ownerProcedure, router, workspaceProcedure } from '../trpc.ts';

/** How long a passed connection test lets the same credentials be saved. */
const TEST_VALID_SECONDS = 60 * 60;

export function webhookUrl(deps: AppDeps): string {
  return `${deps.config.publicUrl}/webhooks/shopify`;
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
        last4: row.accessTokenEnc ? row.accessTokenLast4 : null,
      },
      webhookSecret: {
        set: row.webhookSecretEnc !== null,
        last4: row.webhookSecretEnc ? row.webhookSecretLast4 : null,
      },
    },
    credentialsTestedAt: isoOrNull(row.credentialsTestedAt),
    isActive: row.isActive,
    lastSyncAt: isoOrNull(row.lastSyncAt),
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

/** A keyed fingerprint of the credentials that passed a test: proves "the same token" without storing it. */
function credentialFingerprint(
  key: EncryptionKey,
  workspaceId: string,
  shopDomain: string,
  token: string,
): Buffer {
  const k = Buffer.from(
    hkdfSync('sha256', key.bytes, Buffer.alloc(0), 'crm connection-test fingerprint', 32),
  );
  return createHmac('sha256', k).update(`${workspaceId}\0${shopDomain}\0${token}`, 'utf8').digest();
}

/** Removes any occurrence of a secret from a text that is about to leave the server. */
function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
  return out;
}

/** A Shopify Admin API failure as BAD_GATEWAY with the client's owner-readable message (token scrubbed). */
async function callShopify<T>(token: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof ShopifyAdminError) {
      throw new TRPCError({ code: 'BAD_GATEWAY', message: scrub(error.message, [token]) });
    }
    throw error;
  }
}

function storedShopDomain(row: IntegrationRow | null): string | null {
  const d = row?.config.shopDomain;
  return typeof d === 'string' && d !== '' ? d : null;
}

async function requireIntegration(tx: Tx, workspaceId: string): Promise<IntegrationRow> {
  const row = await getShopifyIntegration(tx, workspaceId);
  if (!row) {
    throw new TRPCError({ code: 'NOT_FOUND', message: 'This workspace has no Shopify integration yet.' });
  }
  return row;
}

/** The stored credentials, decrypted for one call to Shopify. */
function storedCredentials(deps: AppDeps, row: IntegrationRow): { shopDomain: string; accessToken: string } {
  const shopDomain = storedShopDomain(row);
  if (!shopDomain || !row.accessTokenEnc) {
    throw new TRPCError({
      code: 'PRECONDITION_FAILED',
      message: 'Save the shop domain and access token before doing this.',
    });
  }
  return { shopDomain, accessToken: decryptSecret(row.accessTokenEnc, deps.key) };
}

const secretInput = z.string().trim().min(1).max(1024);

export const connectionTestResultSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    shopDomain: z.string(),
    shopName: z.string(),
    scopes: z.array(z.string()),
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
      }),
    )
    .query(async ({ ctx }) => {
      const row = await getShopifyIntegration(ctx.tx, ctx.workspaceId);
      return {
        integration: row ? integrationView(row) : null,
        webhookUrl: webhookUrl(ctx.deps),
        role: ctx.role,
        canEdit: ctx.role === 'owner',
      };
    }),

  /**
   * Calls the Admin API with the given shop domain and token (either omitted: the stored one) and
   * reports the shop's name or why it failed. A pass is remembered so `save` accepts these credentials.
   */
  testConnection: ownerActionProcedure
    .input(z.object({ shopDomain: z.string().max(300).optional(), accessToken: secretInput.optional() }))
    .output(connectionTestResultSchema)
    .mutation(async ({ ctx, input }) => {
      const row = await ctx.db((tx) => getShopifyIntegration(tx, ctx.workspaceId));
      const rawDomain = input.shopDomain?.trim() ? input.shopDomain : storedShopDomain(row);
      if (!rawDomain) throw new TRPCError({ code: 'BAD_REQUEST', message: 'Enter the shop domain.' });
      const shopDomain = shopDomainOrThrow(rawDomain);
      let accessToken = input.accessToken;
      if (accessToken === undefined) {
        if (!row?.accessTokenEnc) {
          throw new TRPCError({ code: 'BAD_REQUEST', message: 'Enter the Admin API access token.' });
        }
        accessToken = decryptSecret(row.accessTokenEnc, ctx.deps.key);
      }
      const token0 = accessToken;
      const result = await callShopify(token0, () =>
        testConnection(ctx.deps.config, { shopDomain, accessToken: token0 }),
      );
      if (!result.ok) {
        return {
          ok: false as const,
          shopDomain,
          reason: result.reason,
          message: scrub(result.message, [accessToken]),
        };
      }
      const token = accessToken;
      const testedAt = await ctx.db((tx) =>
        recordConnectionTest(tx, {
          workspaceId: ctx.workspaceId,
          fingerprint: credentialFingerprint(ctx.deps.key, ctx.workspaceId, shopDomain, token),
          shopDomain,
          shopName: result.shopName,
          testedBy: ctx.userId,
        }),
      );
      return {
        ok: true as const,
        shopDomain,
        shopName: scrub(result.shopName, [token]),
        scopes: result.scopes,
        testedAt: iso(testedAt),
      };
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
        accessToken: secretInput.optional(),
        webhookSecret: secretInput.optional(),
      }),
    )
    .output(integrationViewSchema)
    .mutation(async ({ ctx, input }) => {
      const { tx, workspaceId, deps } = ctx;
      const existing = await getShopifyIntegration(tx, workspaceId, { forUpdate: true });
      const shopDomain = shopDomainOrThrow(input.config.shopDomain);
      if (!existing && (input.accessToken === undefined || input.webhookSecret === undefined)) {
        throw new TRPCError({
          code: 'BAD_REQUEST',
          message: 'Enter the Admin API access token and the webhook signing secret.',
        });
      }

      // Credentials must have passed a test, unless they are exactly the stored, tested ones.
      const unchanged =
        existing !== null &&
        input.accessToken === undefined &&
        storedShopDomain(existing) === shopDomain &&
        existing.credentialsTestedAt !== null;
      let testedAt: Date | null = existing?.credentialsTestedAt ?? null;
      if (!unchanged) {
        let token = input.accessToken;
        if (token === undefined) {
          if (!existing?.accessTokenEnc) {
            throw new TRPCError({ code: 'BAD_REQUEST', message: 'Enter the Admin API access token.' });
          }
          token = decryptSecret(existing.accessTokenEnc, deps.key);
        }
        testedAt = await findPassedConnectionTest(tx, {
          workspaceId,
          fingerprint: credentialFingerprint(deps.key, workspaceId, shopDomain, token),
          withinSeconds: TEST_VALID_SECONDS,
        });
        if (!testedAt) {
          throw new TRPCError({
            code: 'PRECONDITION_FAILED',
            message:
              'These credentials have not passed a connection test. Run "Test connection" with this shop domain and access token, then save.',
          });
        }
      }

      // Pipeline and stage.
      let { pipelineId, stageId } = input.config;
      if (pipelineId === null) {
        if (stageId !== null) {
          throw new TRPCError({ code: 'BAD_REQUEST', message: 'Choose a pipeline for the stage.' });
        }
      } else {
        const check = await checkPipelineStage(tx, { workspaceId, pipelineId, stageId });
        if (!check.pipelineExists) {
          throw new TRPCError({
            code: 'BAD_REQUEST',
            message: 'The chosen pipeline does not exist in this workspace.',
          });
        }
        const previousPipeline = existing?.config.pipelineId ?? null;
        if (stageId !== null && !check.stageInPipeline) {
          if (previousPipeline !== pipelineId) stageId = null;
          else
            throw new TRPCError({
              code: 'BAD_REQUEST',
              message: 'The chosen stage is not in the chosen pipeline.',
            });
        }
      }

      const config = { ...input.config, shopDomain, pipelineId, stageId };
      await upsertShopifyIntegration(tx, {
        workspaceId,
        name: input.name ?? existing?.name ?? 'Shopify',
        config,
        ...(input.accessToken !== undefined
          ? {
              accessToken: {
                enc: encryptSecret(input.accessToken, deps.key),
                last4: last4(input.accessToken),
              },
            }
          : {}),
        ...(input.webhookSecret !== undefined
          ? {
              webhookSecret: {
                enc: encryptSecret(input.webhookSecret, deps.key),
                last4: last4(input.webhookSecret),
              },
            }
          : {}),
        credentialsTestedAt: testedAt,
      });
      const saved = await requireIntegration(tx, workspaceId);
      return integrationView(saved);
    }),

  /** Turns the integration on or off (off: webhooks for the shop are acknowledged and ignored). */
  setEnabled: ownerProcedure
    .input(z.object({ enabled: z.boolean() }))
    .output(z.object({ isActive: z.boolean() }))
    .mutation(async ({ ctx, input }) => {
      if (!(await setIntegrationActive(ctx.tx, ctx.workspaceId, input.enabled))) {
        throw new TRPCError({ code: 'NOT_FOUND', message: 'This workspace has no Shopify integration yet.' });
      }
      return { isActive: input.enabled };
    }),

  /** Deletes the integration and its events; orders imported from it stay. */
  delete: ownerProcedure.output(z.object({ deleted: z.boolean() })).mutation(async ({ ctx }) => ({
    deleted: await deleteShopifyIntegration(ctx.tx, ctx.workspaceId),
  })),

  /** Registers every webhook topic the product needs on the store, at this server's webhook URL. */
  registerWebhooks: ownerActionProcedure
    .output(z.object({ address: z.string(), subscriptions: z.array(subscriptionSchema) }))
    .mutation(async ({ ctx }) => {
      const row = await ctx.db((tx) => requireIntegration(tx, ctx.workspaceId));
      const creds = storedCredentials(ctx.deps, row);
      const address = webhookUrl(ctx.deps);
      const subscriptions = await callShopify(creds.accessToken, () =>
        registerWebhooks(ctx.deps.config, creds, address),
      );
      return {
        address,
        subscriptions: subscriptions.map(({ id, topic, address: a }) => ({ id, topic, address: a })),
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
      const row = await ctx.db((tx) => requireIntegration(tx, ctx.workspaceId));
      const creds = storedCredentials(ctx.deps, row);
      const address = webhookUrl(ctx.deps);
      const health = await callShopify(creds.accessToken, () =>
        ensureWebhookSubscriptions(ctx.deps.config, creds, address),
      );
      const topics = health.map(({ topic, present, recreated }) => ({ topic, present, recreated }));
      // Healthy: every topic is subscribed now (present before, or re-created by this check).
      return { address, healthy: topics.every((t) => t.present || t.recreated), topics };
    }),
});
