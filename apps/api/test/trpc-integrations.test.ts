/**
 * The integration procedures end to end against the local fake Shopify Admin API: save refuses
 * credentials that have not passed a connection test, domains are normalised, changing the pipeline
 * resets the stage, credentials are stored encrypted and shown only as set/last 4, webhooks are
 * registered and a dropped subscription re-created, disable and delete (orders stay).
 */
import { decryptSecret } from '@crm/db';
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { type FakeShopify, startDemoFakeShopify } from '@crm/fake-shopify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  arrangeWorld,
  codeOf,
  ok,
  type RouterInputs,
  signedIn,
  storedCiphertexts,
  type TrpcClient,
  type TrpcResponse,
  transcript,
  type World,
} from './trpc-support.ts';

let db: TestDatabase;
let world: World;
let fake: FakeShopify;
let owner: TrpcClient;
let fresh: {
  workspaceId: string;
  pipelineA: string;
  stagesA: string[];
  pipelineB: string;
  stagesB: string[];
};

const FRESH_SHOP = 'fresh-shop.myshopify.com';
const FRESH_TOKEN = 'shpat_fresh_shop_token_00abcd1234';
const FRESH_SECRET = 'fresh-webhook-secret-0123456-wxyz';

type SaveConfig = RouterInputs['integrations']['save']['config'];

beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startDemoFakeShopify();
  fake.addShop({
    domain: FRESH_SHOP,
    name: 'Fresh Cosmetics',
    tokens: [FRESH_TOKEN, 'shpat_second_valid_token_0000005678'],
  });
  fake.addShop({
    domain: 'no-scopes.myshopify.com',
    tokens: ['shpat_no_scopes_token_00000000000'],
    scopes: ['read_products'],
  });
  world = await arrangeWorld(db, {
    shopifyAdminBaseUrl: fake.baseUrl,
    publicUrl: 'https://crm.example.test',
  });
  // A workspace with no integration yet, owned by the demo owner, with two pipelines.
  const sql = db.sql;
  const [ws] = await sql<
    { id: string }[]
  >`insert into workspaces (name, slug) values ('Fresh', 'fresh') returning id`;
  if (!ws) throw new Error('arrange');
  await sql`
    insert into workspace_members (workspace_id, user_id, role)
    select ${ws.id}, id, 'owner' from users where email = 'owner@demo.test'`;
  await sql`
    insert into workspace_members (workspace_id, user_id, role)
    select ${ws.id}, id, 'admin' from users where email = 'admin@demo.test'`;
  const mk = async (name: string) => {
    const [p] = await sql<{ id: string }[]>`
      insert into pipelines (workspace_id, name) values (${ws.id}, ${name}) returning id`;
    if (!p) throw new Error('arrange');
    const stages = await sql<{ id: string }[]>`
      insert into pipeline_stages (workspace_id, pipeline_id, name, position)
      values (${ws.id}, ${p.id}, ${`${name} 1`}, 0), (${ws.id}, ${p.id}, ${`${name} 2`}, 1) returning id`;
    return { id: p.id, stages: stages.map((s) => s.id) };
  };
  const a = await mk('A');
  const b = await mk('B');
  fresh = { workspaceId: ws.id, pipelineA: a.id, stagesA: a.stages, pipelineB: b.id, stagesB: b.stages };
  owner = await signedIn(world.app, 'owner@demo.test');
});
afterAll(async () => {
  await world?.app.close();
  await fake?.close();
  await db?.drop();
});

const config = (over: Partial<SaveConfig> = {}): SaveConfig => ({
  shopDomain: 'fresh-shop',
  pipelineId: fresh.pipelineA,
  stageId: fresh.stagesA[1],
  productMatching: 'sku',
  fuzzyMatching: true,
  autoCreateOrders: true,
  defaultPhoneCountry: 'CO',
  ...over,
});

describe('integrations.get', () => {
  it('shows the demo integration with set/last4 only and the webhook URL to paste', async () => {
    const r = ok(await owner.api.integrations.get.query({ workspaceId: world.demo.workspaceId }));
    expect(r.webhookUrl).toBe('https://crm.example.test/webhooks/shopify');
    expect(r.canEdit).toBe(true);
    expect(r.integration?.credentials).toEqual({
      accessToken: { set: true, last4: 'oken' },
      webhookSecret: { set: true, last4: null },
    });
    expect(r.integration?.config.shopDomain).toBe('demo-store.myshopify.com');
    const admin = await signedIn(world.app, 'admin@demo.test');
    const a = ok(await admin.api.integrations.get.query({ workspaceId: world.demo.workspaceId }));
    expect(a.canEdit).toBe(false);
    expect(a.role).toBe('admin');
    expect(a.integration?.id).toBe(r.integration?.id);
  });

  it('is null for a workspace without one', async () => {
    const r = ok(await owner.api.integrations.get.query({ workspaceId: fresh.workspaceId }));
    expect(r.integration).toBeNull();
  });
});

describe('testConnection and save', () => {
  const W = () => ({ workspaceId: fresh.workspaceId });

  it('refuses to save credentials that never passed a test', async () => {
    const r = await owner.api.integrations.save.mutate({
      ...W(),
      config: config(),
      accessToken: FRESH_TOKEN,
      webhookSecret: FRESH_SECRET,
    });
    expect(codeOf(r)).toBe('PRECONDITION_FAILED');
    if (r.ok) throw new Error('unreachable');
    expect(r.error.message).toMatch(/not passed a connection test/);
    expect(await db.sql`select 1 from integrations where workspace_id = ${fresh.workspaceId}`).toHaveLength(
      0,
    );
  });

  it('needs both credentials for a new integration', async () => {
    const r = await owner.api.integrations.save.mutate({
      ...W(),
      config: config(),
      accessToken: FRESH_TOKEN,
    });
    expect(codeOf(r)).toBe('BAD_REQUEST');
  });

  it('refuses a domain that is not a myshopify.com store, with the reason', async () => {
    const r = await owner.api.integrations.testConnection.mutate({
      ...W(),
      shopDomain: 'www.example.com',
      accessToken: FRESH_TOKEN,
    });
    expect(codeOf(r)).toBe('BAD_REQUEST');
    if (r.ok) throw new Error('unreachable');
    expect(r.error.message).toMatch(/myshopify\.com/);
  });

  it('reports a bad token and a missing scope, and such a test does not allow a save', async () => {
    const bad = ok(
      await owner.api.integrations.testConnection.mutate({
        ...W(),
        shopDomain: 'fresh-shop',
        accessToken: 'shpat_wrong_token_0000000000000000',
      }),
    );
    expect(bad).toMatchObject({ ok: false, reason: 'bad_token', shopDomain: FRESH_SHOP });
    expect(bad.ok ? '' : bad.message).not.toContain('shpat_wrong_token_0000000000000000');
    const scopes = ok(
      await owner.api.integrations.testConnection.mutate({
        ...W(),
        shopDomain: 'no-scopes.myshopify.com',
        accessToken: 'shpat_no_scopes_token_00000000000',
      }),
    );
    expect(scopes).toMatchObject({ ok: false, reason: 'missing_scope' });
    const save = await owner.api.integrations.save.mutate({
      ...W(),
      config: config(),
      accessToken: 'shpat_wrong_token_0000000000000000',
      webhookSecret: FRESH_SECRET,
    });
    expect(codeOf(save)).toBe('PRECONDITION_FAILED');
  });

  it('a passed test lets exactly those credentials be saved, encrypted, shown as last 4', async () => {
    const test = ok(
      await owner.api.integrations.testConnection.mutate({
        ...W(),
        shopDomain: 'https://Fresh-Shop.myshopify.com/admin',
        accessToken: FRESH_TOKEN,
      }),
    );
    expect(test).toMatchObject({ ok: true, shopName: 'Fresh Cosmetics', shopDomain: FRESH_SHOP });

    // Another (valid but untested) token is still refused.
    const other = await owner.api.integrations.save.mutate({
      ...W(),
      config: config(),
      accessToken: 'shpat_second_valid_token_0000005678',
      webhookSecret: FRESH_SECRET,
    });
    expect(codeOf(other)).toBe('PRECONDITION_FAILED');

    const saved = ok(
      await owner.api.integrations.save.mutate({
        ...W(),
        name: 'Fresh Shopify',
        config: config({ shopDomain: 'FRESH-SHOP.myshopify.com' }),
        accessToken: FRESH_TOKEN,
        webhookSecret: FRESH_SECRET,
      }),
    );
    expect(saved.config.shopDomain).toBe(FRESH_SHOP);
    expect(saved.credentials).toEqual({
      accessToken: { set: true, last4: '1234' },
      webhookSecret: { set: true, last4: 'wxyz' },
    });
    expect(saved.credentialsTestedAt).not.toBeNull();
    const [row] = await db.sql<{ access_token_enc: string; webhook_secret_enc: string; t: string }[]>`
      select access_token_enc, webhook_secret_enc, i::text as t from integrations i
      where workspace_id = ${fresh.workspaceId}`;
    expect(row?.t).not.toContain(FRESH_TOKEN);
    expect(row?.t).not.toContain(FRESH_SECRET);
    expect(decryptSecret(row?.access_token_enc ?? '', db.key)).toBe(FRESH_TOKEN);
    expect(decryptSecret(row?.webhook_secret_enc ?? '', db.key)).toBe(FRESH_SECRET);
    // The test record holds a fingerprint, never the token.
    const [tests] = await db.sql<{ t: string }[]>`
      select string_agg(x::text, ' ') as t from integration_connection_tests x`;
    expect(tests?.t).not.toContain(FRESH_TOKEN);
  });

  it('saves config changes with the stored credentials, and refuses a new domain until tested', async () => {
    const saved = ok(
      await owner.api.integrations.save.mutate({
        ...W(),
        config: config({ productMatching: 'name' }),
      }),
    );
    expect(saved.config.productMatching).toBe('name');
    expect(saved.credentials.accessToken.last4).toBe('1234');
    const moved = await owner.api.integrations.save.mutate({
      ...W(),
      config: config({ shopDomain: 'no-scopes.myshopify.com' }),
    });
    expect(codeOf(moved)).toBe('PRECONDITION_FAILED');
  });

  it('testConnection with nothing typed tests the stored domain and token', async () => {
    const r = ok(await owner.api.integrations.testConnection.mutate(W()));
    expect(r).toMatchObject({ ok: true, shopName: 'Fresh Cosmetics' });
  });

  it('changing the pipeline resets the stage; a stage of another pipeline is refused otherwise', async () => {
    const moved = ok(
      await owner.api.integrations.save.mutate({
        ...W(),
        config: config({ pipelineId: fresh.pipelineB, stageId: fresh.stagesA[1] }),
      }),
    );
    expect(moved.config).toMatchObject({ pipelineId: fresh.pipelineB, stageId: null });
    const kept = ok(
      await owner.api.integrations.save.mutate({
        ...W(),
        config: config({ pipelineId: fresh.pipelineB, stageId: fresh.stagesB[1] }),
      }),
    );
    expect(kept.config).toMatchObject({ pipelineId: fresh.pipelineB, stageId: fresh.stagesB[1] });
    const wrong = await owner.api.integrations.save.mutate({
      ...W(),
      config: config({ pipelineId: fresh.pipelineB, stageId: fresh.stagesA[0] }),
    });
    expect(codeOf(wrong)).toBe('BAD_REQUEST');
    const foreign = await owner.api.integrations.save.mutate({
      ...W(),
      config: config({ pipelineId: world.demo.pipelineId, stageId: null }),
    });
    expect(codeOf(foreign)).toBe('BAD_REQUEST');
  });

  it('a rotated webhook secret keeps the previous one for a day', async () => {
    ok(
      await owner.api.integrations.save.mutate({
        ...W(),
        config: config(),
        webhookSecret: 'rotated-webhook-secret-00000-9999',
      }),
    );
    const [row] = await db.sql<{ prev: string; exp: Date }[]>`
      select webhook_secret_previous_enc as prev, webhook_secret_previous_expires_at as exp
      from integrations where workspace_id = ${fresh.workspaceId}`;
    expect(decryptSecret(row?.prev ?? '', db.key)).toBe(FRESH_SECRET);
    expect((row?.exp.getTime() ?? 0) - Date.now()).toBeGreaterThan(23 * 3600_000);
    const view = ok(await owner.api.integrations.get.query(W()));
    expect(view.integration?.credentials.webhookSecret.last4).toBe('9999');
  });

  it('a secret shorter than Shopify issues is refused with a clear message, nothing saved', async () => {
    const before = ok(await owner.api.integrations.get.query(W()));
    const r = await owner.api.integrations.save.mutate({ ...W(), config: config(), webhookSecret: 'k3Y9' });
    expect(codeOf(r)).toBe('BAD_REQUEST');
    if (r.ok) throw new Error('unreachable');
    expect(r.error.message).toMatch(/webhook signing secret is too short: Shopify's have at least 32/);
    const t = await owner.api.integrations.testConnection.mutate({ ...W(), accessToken: 'shpat_short' });
    expect(codeOf(t)).toBe('BAD_REQUEST');
    const after = ok(await owner.api.integrations.get.query(W()));
    expect(after.integration?.credentials).toEqual(before.integration?.credentials);
  });

  it('every refusal names the input path it is about, so the form puts it beside that field', async () => {
    const fieldOf = (r: TrpcResponse) => (r.ok ? 'OK' : (r.error.data as { field?: unknown }).field);
    // Refused by the input schema: the first issue's path, nested paths dotted.
    const short = await owner.api.integrations.save.mutate({
      ...W(),
      config: config(),
      webhookSecret: 'k3Y9',
    });
    expect(fieldOf(short)).toBe('webhookSecret');
    const country = await owner.api.integrations.save.mutate({
      ...W(),
      config: config({ defaultPhoneCountry: 'col' }),
    });
    expect(codeOf(country)).toBe('BAD_REQUEST');
    expect(fieldOf(country)).toBe('config.defaultPhoneCountry');
    // Refused by the service: the path it names.
    const domain = await owner.api.integrations.save.mutate({
      ...W(),
      config: config({ shopDomain: 'www.example.com' }),
    });
    expect(fieldOf(domain)).toBe('config.shopDomain');
    const tested = await owner.api.integrations.testConnection.mutate({
      ...W(),
      shopDomain: 'www.example.com',
    });
    expect(fieldOf(tested)).toBe('shopDomain');
    const foreign = await owner.api.integrations.save.mutate({
      ...W(),
      config: config({ pipelineId: world.demo.pipelineId, stageId: null }),
    });
    expect(fieldOf(foreign)).toBe('config.pipelineId');
  });

  it('a short secret stored before the rule shows no last 4 characters', async () => {
    // The seeded demo secret (demo-webhook-secret, 19 characters) predates the minimum.
    const r = ok(await owner.api.integrations.get.query({ workspaceId: world.demo.workspaceId }));
    expect(r.integration?.credentials.webhookSecret).toEqual({ set: true, last4: null });
  });

  it('a store connected to another workspace cannot be connected again', async () => {
    const t = ok(
      await owner.api.integrations.testConnection.mutate({
        workspaceId: fresh.workspaceId,
        shopDomain: 'demo-store',
        accessToken: 'shpat_0000000000_demo_store_token',
      }),
    );
    expect(t.ok).toBe(true);
    const r = await owner.api.integrations.save.mutate({
      workspaceId: fresh.workspaceId,
      config: config({ shopDomain: 'demo-store' }),
      accessToken: 'shpat_0000000000_demo_store_token',
    });
    expect(codeOf(r)).toBe('CONFLICT');
    if (r.ok) throw new Error('unreachable');
    expect(r.error.message).toMatch(/already connected to another workspace/);
  });
});

describe('webhook subscriptions', () => {
  it('registers every topic at the webhook URL; the health check re-creates a dropped one', async () => {
    const W = { workspaceId: fresh.workspaceId };
    const reg = ok(await owner.api.integrations.registerWebhooks.mutate(W));
    expect(reg.address).toBe('https://crm.example.test/webhooks/shopify');
    expect(reg.subscriptions.map((s) => s.topic)).toEqual(
      expect.arrayContaining([
        'orders/create',
        'orders/updated',
        'orders/paid',
        'orders/cancelled',
        'app/uninstalled',
      ]),
    );
    expect(fake.shop(FRESH_SHOP).webhooks.size).toBe(reg.subscriptions.length);
    expect(fake.shop(FRESH_SHOP).dropWebhook('orders/paid')).toBe(true);
    const health = ok(await owner.api.integrations.subscriptionHealth.mutate(W));
    expect(health.healthy).toBe(true);
    expect(health.topics.find((t) => t.topic === 'orders/paid')).toEqual({
      topic: 'orders/paid',
      present: false,
      recreated: true,
    });
    expect(health.topics.filter((t) => t.recreated)).toHaveLength(1);
    expect([...fake.shop(FRESH_SHOP).webhooks.values()].some((w) => w.topic === 'orders/paid')).toBe(true);
  });

  it('an Admin API failure comes back as a clear BAD_GATEWAY without the token', async () => {
    fake.shop(FRESH_SHOP).tokens.delete(FRESH_TOKEN);
    try {
      const r = await owner.api.integrations.registerWebhooks.mutate({ workspaceId: fresh.workspaceId });
      expect(codeOf(r)).toBe('BAD_GATEWAY');
      expect(r.raw).not.toContain(FRESH_TOKEN);
    } finally {
      fake.shop(FRESH_SHOP).tokens.add(FRESH_TOKEN);
    }
  });
});

describe('enable, disable, delete', () => {
  it('disables and enables', async () => {
    const W = { workspaceId: fresh.workspaceId };
    expect(ok(await owner.api.integrations.setEnabled.mutate({ ...W, enabled: false }))).toEqual({
      isActive: false,
    });
    expect(ok(await owner.api.integrations.get.query(W)).integration?.isActive).toBe(false);
    expect(ok(await owner.api.integrations.setEnabled.mutate({ ...W, enabled: true }))).toEqual({
      isActive: true,
    });
  });

  it('deletes the integration and keeps its orders', async () => {
    const ws = world.demo.workspaceId;
    const [order] = await db.sql<{ id: string }[]>`
      insert into orders (workspace_id, pipeline_id, stage_id, integration_id, shopify_order_id)
      values (${ws}, ${world.demo.pipelineId}, ${world.demo.stageIds[0] ?? null}, ${world.demo.integrationId}, '1234')
      returning id`;
    const r = ok(await owner.api.integrations.delete.mutate({ workspaceId: ws }));
    expect(r).toEqual({ deleted: true });
    const [kept] = await db.sql<{ integration_id: string | null }[]>`
      select integration_id from orders where id = ${order?.id ?? null}`;
    expect(kept).toEqual({ integration_id: null });
    expect(ok(await owner.api.integrations.get.query({ workspaceId: ws })).integration).toBeNull();
    expect(codeOf(await owner.api.integrations.setEnabled.mutate({ workspaceId: ws, enabled: true }))).toBe(
      'NOT_FOUND',
    );
  });
});

describe('secrets', () => {
  it('a credential that cannot be decrypted is reported as such, without the ciphertext', async () => {
    await db.sql`
      update integrations set access_token_enc = 'v1.AAAA.BBBB.CCCC' where workspace_id = ${world.other.workspaceId}`;
    const other = await signedIn(world.app, 'other@other.test');
    const r = await other.api.integrations.testConnection.mutate({ workspaceId: world.other.workspaceId });
    expect(codeOf(r)).toBe('INTERNAL_SERVER_ERROR');
    if (r.ok) throw new Error('unreachable');
    expect(r.error.message).toMatch(/could not be decrypted/);
    expect(r.raw).not.toContain('v1.AAAA');
  });

  it('no response of this file carried a credential typed, stored or rotated, nor a ciphertext', async () => {
    const needles = [
      ...world.plaintextSecrets,
      FRESH_TOKEN,
      FRESH_SECRET,
      'rotated-webhook-secret-00000-9999',
      'shpat_wrong_token_0000000000000000',
      'shpat_second_valid_token_0000005678',
      'shpat_no_scopes_token_00000000000',
      ...(await storedCiphertexts(db.sql)),
    ];
    expect(transcript.length).toBeGreaterThan(20);
    for (const { path, raw } of transcript) {
      for (const n of needles)
        expect({ path, found: raw.includes(n) ? n.slice(0, 6) : null }).toEqual({ path, found: null });
    }
  });
});
