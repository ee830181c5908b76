import { describe, expect, it } from 'vitest';
import {
  credentialsState,
  type Integration,
  type PassedTest,
  type Pipeline,
  pipelineChoice,
  type SettingsValues,
  settingsSchema,
  settingsValuesOf,
  toSaveInput,
  toTestInput,
} from './form-values.ts';

const P1 = '11111111-1111-4111-8111-111111111111';
const P2 = '22222222-2222-4222-8222-222222222222';
const S1 = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const S2 = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const S3 = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';

const stage = (id: string, name: string) => ({ id, name, isCancelled: false }) as Pipeline['stages'][number];
const pipelines = [
  { id: P1, name: 'Ventas', stages: [stage(S1, 'Nuevo'), stage(S2, 'Pagado')] },
  { id: P2, name: 'Mayoristas', stages: [stage(S3, 'Entrante')] },
] as Pipeline[];

function stored(
  over: Partial<Integration['config']> = {},
  testedAt: string | null = '2026-12-01T10:00:00.000Z',
) {
  return {
    name: 'Demo Shopify',
    config: {
      shopDomain: 'demo-store.myshopify.com',
      pipelineId: P1,
      stageId: S2,
      productMatching: 'name',
      fuzzyMatching: false,
      autoCreateOrders: true,
      defaultPhoneCountry: 'MX',
      ...over,
    },
    credentials: { accessToken: { set: true, last4: 'oken' }, webhookSecret: { set: true, last4: null } },
    credentialsTestedAt: testedAt,
  } satisfies Pick<Integration, 'name' | 'config' | 'credentials' | 'credentialsTestedAt'>;
}

describe('settingsValuesOf and toSaveInput', () => {
  it('round-trips a stored integration: the same config, and no credential sent when none is typed', () => {
    const values = settingsValuesOf(stored());
    expect(values).toMatchObject({ name: 'Demo Shopify', accessToken: '', webhookSecret: '', stageId: S2 });
    expect(toSaveInput('ws', values, pipelines)).toEqual({
      workspaceId: 'ws',
      name: 'Demo Shopify',
      config: stored().config,
    });
  });

  it("starts a new integration from the API's defaults", () => {
    expect(settingsValuesOf(null)).toEqual({
      name: 'Shopify',
      shopDomain: '',
      accessToken: '',
      webhookSecret: '',
      pipelineId: '',
      stageId: '',
      productMatching: 'sku',
      fuzzyMatching: true,
      autoCreateOrders: true,
      defaultPhoneCountry: 'CO',
    });
  });

  it('trims the text, sends typed credentials, and no pipeline as null', () => {
    const values: SettingsValues = {
      ...settingsValuesOf(null),
      name: '  Store  ',
      shopDomain: ' demo-store ',
      accessToken: ' shpat_x ',
      webhookSecret: 'secret',
    };
    expect(toSaveInput('ws', values, pipelines)).toMatchObject({
      name: 'Store',
      config: { shopDomain: 'demo-store', pipelineId: null, stageId: null },
      accessToken: 'shpat_x',
      webhookSecret: 'secret',
    });
  });

  it('drops a pipeline deleted elsewhere, and a stage that is not in the chosen pipeline', () => {
    const gone = settingsValuesOf(
      stored({ pipelineId: '33333333-3333-4333-8333-333333333333', stageId: S1 }),
    );
    expect(toSaveInput('ws', gone, pipelines).config).toMatchObject({ pipelineId: null, stageId: null });
    const moved = { ...settingsValuesOf(stored()), pipelineId: P2 };
    expect(toSaveInput('ws', moved, pipelines).config).toMatchObject({ pipelineId: P2, stageId: null });
  });

  it('tests the domain as typed, with the token only when one is typed', () => {
    expect(toTestInput('ws', { shopDomain: 'demo-store', accessToken: '  ' })).toEqual({
      workspaceId: 'ws',
      shopDomain: 'demo-store',
    });
    expect(toTestInput('ws', { shopDomain: 'demo-store', accessToken: 'shpat_1' })).toMatchObject({
      accessToken: 'shpat_1',
    });
  });
});

describe('settingsSchema', () => {
  const issues = (schema: ReturnType<typeof settingsSchema>, values: SettingsValues) => {
    const r = schema.safeParse(values);
    return r.success ? {} : Object.fromEntries(r.error.issues.map((i) => [i.path.join('.'), i.message]));
  };

  it('asks for a domain without spaces, a name, and each credential not stored yet', () => {
    const blank = { ...settingsValuesOf(null), name: ' ', shopDomain: 'my store' };
    expect(issues(settingsSchema(null), blank)).toEqual({
      name: 'Give the integration a name.',
      shopDomain: 'A shop domain has no spaces.',
      accessToken: 'Paste the Admin API access token (starts with shpat_).',
      webhookSecret: 'Paste the webhook signing secret from Shopify (Settings → Notifications → Webhooks).',
    });
    expect(issues(settingsSchema(null), { ...blank, shopDomain: '' }).shopDomain).toMatch(
      /Enter the store's/,
    );
  });

  it('lets stored credentials be left blank', () => {
    expect(issues(settingsSchema(stored()), settingsValuesOf(stored()))).toEqual({});
  });
});

describe('credentialsState', () => {
  const passed = (domain: string, token: string, ok = true): PassedTest => ({
    domain,
    token,
    result: ok
      ? {
          ok: true,
          shopDomain: domain,
          shopName: 'Demo',
          scopes: [],
          protectedCustomerData: true,
          protectedDataHint: null,
          warnings: [],
          testedAt: '2026-12-01T10:00:00.000Z',
        }
      : { ok: false, shopDomain: domain, reason: 'bad_token', message: 'no' },
  });

  it('accepts the stored, tested credentials kept unchanged (domain case aside)', () => {
    const typedNow = { shopDomain: 'Demo-Store.myshopify.com ', accessToken: '' };
    expect(credentialsState(stored(), typedNow, null)).toEqual({ ready: true, storedOk: true });
    expect(credentialsState(stored({}, null), typedNow, null).ready).toBe(false);
    expect(credentialsState(stored(), { ...typedNow, shopDomain: 'other' }, null).ready).toBe(false);
  });

  it('accepts exactly the domain and token of a passed test', () => {
    const typedNow = { shopDomain: 'demo-store', accessToken: 'shpat_1' };
    expect(credentialsState(null, typedNow, passed('demo-store', 'shpat_1'))).toEqual({
      ready: true,
      storedOk: false,
    });
    expect(credentialsState(null, typedNow, passed('demo-store', 'shpat_2')).ready).toBe(false);
    expect(credentialsState(null, typedNow, passed('demo-store', 'shpat_1', false)).ready).toBe(false);
  });
});

describe('pipelineChoice', () => {
  it('says when the stored pipeline is gone, and offers no stage then', () => {
    const gone = pipelineChoice(pipelines, '33333333-3333-4333-8333-333333333333', S1);
    expect(gone).toEqual({ pipeline: null, pipelineId: '', stageId: '', missingPipeline: true });
    expect(pipelineChoice(pipelines, '', '').missingPipeline).toBe(false);
    expect(pipelineChoice(pipelines, P1, S2)).toMatchObject({
      pipelineId: P1,
      stageId: S2,
      missingPipeline: false,
    });
  });
});
