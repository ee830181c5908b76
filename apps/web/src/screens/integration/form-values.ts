/**
 * The "Store and settings" form (legacy custom app credentials and where orders land) as values:
 * its zod schema for react-hook-form, the values of a stored integration, and the conversions to the
 * API's `testConnection` and `save` inputs. Pure: no React, no network.
 */
import { connectFormSchema } from '@crm/shopify/connection-form';
import { INTEGRATION_CONFIG_DEFAULTS, productMatchingSchema } from '@crm/shopify/integration-config';
import { z } from 'zod';
import type { RouterInputs, RouterOutputs } from '../../trpc.ts';

export type Integration = NonNullable<RouterOutputs['integrations']['get']['integration']>;
export type Pipeline = RouterOutputs['pipelines']['list'][number];
export type SaveInput = RouterInputs['integrations']['save'];
export type TestInput = RouterInputs['integrations']['testConnection'];
export type ProductMatching = NonNullable<SaveInput['config']['productMatching']>;
export type TestResult = RouterOutputs['integrations']['testConnection'];

/** What the owner edits; the credentials are write-only (blank keeps the stored one). */
export type SettingsValues = {
  name: string;
  shopDomain: string;
  accessToken: string;
  webhookSecret: string;
  /** As chosen, possibly a pipeline deleted elsewhere since (see pipelineChoice). */
  pipelineId: string;
  stageId: string;
  productMatching: ProductMatching;
  fuzzyMatching: boolean;
  autoCreateOrders: boolean;
  defaultPhoneCountry: string;
};

/** The fields that show an error beside them; a refusal about anything else goes on the form. */
export const SETTINGS_ERROR_FIELDS = [
  'name',
  'shopDomain',
  'accessToken',
  'webhookSecret',
  'pipelineId',
  'stageId',
  'defaultPhoneCountry',
] as const satisfies readonly (keyof SettingsValues)[];

/** The fields "Test connection" checks and sends. */
export const TEST_FIELDS = ['shopDomain', 'accessToken'] as const satisfies readonly (keyof SettingsValues)[];

type Stored = Pick<Integration, 'name' | 'config' | 'credentials' | 'credentialsTestedAt'>;

/** The form's starting values: the stored integration's, or a new one's defaults. */
export function settingsValuesOf(integration: Stored | null): SettingsValues {
  const c = integration?.config;
  return {
    name: integration?.name ?? 'Shopify',
    shopDomain: c?.shopDomain ?? '',
    accessToken: '',
    webhookSecret: '',
    pipelineId: c?.pipelineId ?? '',
    stageId: c?.stageId ?? '',
    productMatching: c?.productMatching ?? INTEGRATION_CONFIG_DEFAULTS.productMatching,
    fuzzyMatching: c?.fuzzyMatching ?? INTEGRATION_CONFIG_DEFAULTS.fuzzyMatching,
    autoCreateOrders: c?.autoCreateOrders ?? INTEGRATION_CONFIG_DEFAULTS.autoCreateOrders,
    defaultPhoneCountry: c?.defaultPhoneCountry ?? INTEGRATION_CONFIG_DEFAULTS.defaultPhoneCountry,
  };
}

/**
 * The rules checked before a call (the server checks them again, and more): a shop domain without
 * spaces, a display name, and each credential that is not stored yet.
 */
export function settingsSchema(stored: Pick<Integration, 'credentials'> | null) {
  const required = (set: boolean | undefined, message: string) =>
    set ? z.string() : z.string().refine((v) => v.trim() !== '', { error: message });
  return z.object({
    name: z.string().refine((v) => v.trim() !== '', { error: 'Give the integration a name.' }),
    shopDomain: z
      .string()
      .refine((v) => v.trim() !== '', {
        error: "Enter the store's Shopify domain, e.g. my-store.myshopify.com.",
        abort: true,
      })
      .refine((v) => !/\s/.test(v.trim()), { error: 'A shop domain has no spaces.' })
      .pipe(connectFormSchema.shape.shopDomain),
    accessToken: required(
      stored?.credentials.accessToken.set,
      'Paste the Admin API access token (starts with shpat_).',
    ),
    webhookSecret: required(
      stored?.credentials.webhookSecret.set,
      'Paste the webhook signing secret from Shopify (Settings → Notifications → Webhooks).',
    ),
    pipelineId: z.string(),
    stageId: z.string(),
    productMatching: productMatchingSchema,
    fuzzyMatching: z.boolean(),
    autoCreateOrders: z.boolean(),
    defaultPhoneCountry: z.string(),
  });
}

/**
 * The pipeline and stage as they can be saved: a pipeline (or stage) deleted elsewhere in the CRM is
 * no choice at all, and `missingPipeline` says the stored one is gone so the field asks for another.
 */
export function pipelineChoice(
  pipelines: readonly Pipeline[],
  chosenPipelineId: string,
  chosenStageId: string,
): { pipeline: Pipeline | null; pipelineId: string; stageId: string; missingPipeline: boolean } {
  const pipeline = pipelines.find((p) => p.id === chosenPipelineId) ?? null;
  return {
    pipeline,
    pipelineId: pipeline?.id ?? '',
    stageId: pipeline?.stages.some((s) => s.id === chosenStageId) ? chosenStageId : '',
    missingPipeline: chosenPipelineId !== '' && pipeline === null,
  };
}

const typed = (value: string): string | undefined => (value.trim() ? value.trim() : undefined);

/** `testConnection`'s input: the domain as typed, and the token only when one is typed (else the stored one). */
export function toTestInput(workspaceId: string, values: Pick<SettingsValues, 'shopDomain' | 'accessToken'>) {
  const accessToken = typed(values.accessToken);
  return {
    workspaceId,
    shopDomain: values.shopDomain,
    ...(accessToken ? { accessToken } : {}),
  } satisfies TestInput;
}

/** `save`'s input: trimmed text, no pipeline as null, and only the credentials typed. */
export function toSaveInput(
  workspaceId: string,
  values: SettingsValues,
  pipelines: readonly Pipeline[],
): SaveInput {
  const { pipelineId, stageId } = pipelineChoice(pipelines, values.pipelineId, values.stageId);
  const accessToken = typed(values.accessToken);
  const webhookSecret = typed(values.webhookSecret);
  return {
    workspaceId,
    name: values.name.trim(),
    config: {
      shopDomain: values.shopDomain.trim(),
      pipelineId: pipelineId || null,
      stageId: stageId || null,
      productMatching: values.productMatching,
      fuzzyMatching: values.fuzzyMatching,
      autoCreateOrders: values.autoCreateOrders,
      defaultPhoneCountry: values.defaultPhoneCountry,
    },
    ...(accessToken ? { accessToken } : {}),
    ...(webhookSecret ? { webhookSecret } : {}),
  };
}

/** A connection test that passed, and with what it was run. */
export type PassedTest = { domain: string; token: string; result: TestResult };

/**
 * Whether Save may be pressed: the credentials passed a test, either the stored ones (kept: no
 * token typed, same domain, tested before) or exactly the domain and token just tested.
 */
export function credentialsState(
  integration: Pick<Integration, 'config' | 'credentialsTestedAt'> | null,
  typedNow: Pick<SettingsValues, 'shopDomain' | 'accessToken'>,
  tested: PassedTest | null,
): { ready: boolean; storedOk: boolean } {
  const domainUnchanged =
    integration !== null &&
    typedNow.shopDomain.trim().toLowerCase() === integration.config.shopDomain.toLowerCase();
  const storedOk =
    integration !== null &&
    typedNow.accessToken === '' &&
    domainUnchanged &&
    integration.credentialsTestedAt !== null;
  const justTested =
    tested?.result.ok === true &&
    tested.domain === typedNow.shopDomain &&
    tested.token === typedNow.accessToken;
  return { ready: storedOk || justTested, storedOk };
}
