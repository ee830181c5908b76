/**
 * Connecting a store the ways Shopify works since 2026, against the fake: a Dev Dashboard app
 * (client credentials), "Connect with Shopify" (authorization code, expiring tokens, refresh with
 * rotation) and the legacy static token; tokens renewed once however many workers need them, a lost
 * refresh answer recovered, a revoked app marked *needs reconnection* while webhooks keep being
 * stored, forged callbacks refused without storing anything, and no REST request anywhere.
 */
import { decryptSecret, withWorkspace } from '@crm/db';
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import {
  type FakeShopify,
  installLink,
  orderFromRest,
  readOrderFixture,
  startFakeShopify,
  variantOfOrder,
} from '@crm/fake-shopify';
import { signedWebhookHeaders, signOAuthQuery } from '@crm/shopify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrationTokenSource } from '../src/integrations/token-store.ts';
import { metrics } from '../src/metrics.ts';
import { runReconcileJob } from '../src/reconcile/task.ts';
import { listWebhooks } from '../src/shopify-admin/client.ts';
import { arrangeWorld, ok, signedIn, type TrpcClient, transcript, type World } from './trpc-support.ts';

const CC_SHOP = 'own-app-store.myshopify.com';
const CC_ID = 'a61950a2cbd5f32876b0b55587ec7a27';
const CC_SECRET = 'shpss_own_app_client_secret_0123456789abcdef';
const OAUTH_SHOP = 'connected-store.myshopify.com';
const API_KEY = 'crm-distributed-app-key-0001';
const API_SECRET = 'shpss_crm_distributed_app_secret_abcdef0123456789';
const INSTALL_SHOP = 'installed-from-admin.myshopify.com';

let db: TestDatabase;
let world: World;
let fake: FakeShopify;
let owner: TrpcClient;
let ccWorkspace: string;
let oauthWorkspace: string;
let installWorkspace: string;

async function newWorkspace(slug: string): Promise<string> {
  const [ws] = await db.sql<{ id: string }[]>`
    insert into workspaces (name, slug) values (${slug}, ${slug}) returning id`;
  if (!ws) throw new Error('arrange');
  await db.sql`insert into workspace_members (workspace_id, user_id, role)
    select ${ws.id}, id, 'owner' from users where email = 'owner@demo.test'`;
  await db.sql`insert into workspace_members (workspace_id, user_id, role)
    select ${ws.id}, id, 'agent' from users where email = 'agent@demo.test'`;
  return ws.id;
}

const baseConfig = (shopDomain: string) => ({
  shopDomain,
  pipelineId: null,
  stageId: null,
  productMatching: 'sku' as const,
  fuzzyMatching: true,
  autoCreateOrders: true,
  defaultPhoneCountry: 'CO',
});

const integrationRow = async (workspaceId: string) => {
  const [row] = await db.sql<
    Record<string, unknown>[]
  >`select * from integrations where workspace_id = ${workspaceId}`;
  return row ?? null;
};

/** 10 workers of the integration's workspace, each with its own token source (as separate processes would). */
function workers(workspaceId: string, integrationId: string, n = 10) {
  const deps = world.app.deps;
  return Array.from({ length: n }, () =>
    integrationTokenSource(deps, (fn) => withWorkspace(deps.sql, workspaceId, fn), integrationId),
  );
}

/** Four orders updated this week, for the reconcile runs. */
function weekOrders(offset: bigint) {
  const cod = orderFromRest(readOrderFixture('orders-create.cod-co.json'));
  return Array.from({ length: 4 }, (_, i) =>
    variantOfOrder(cod, {
      id: BigInt(cod.legacyResourceId) + offset + BigInt(i),
      name: `#${7000 + Number(offset) + i}`,
      updatedAt: new Date(Date.now() - (4 - i) * 3_600_000).toISOString(),
    }),
  );
}

/**
 * Reconciles the workspace, the token expiring after the first page: the run renews it and
 * finishes with every order.
 */
async function reconcileThroughExpiry(workspaceId: string): Promise<void> {
  const [integration] = await db.sql<
    { id: string }[]
  >`select id from integrations where workspace_id = ${workspaceId}`;
  const [user] = await db.sql<{ id: string }[]>`select id from users where email = 'owner@demo.test'`;
  const [run] = await db.sql<{ id: string }[]>`
    insert into reconcile_runs (workspace_id, integration_id, since, requested_by)
    values (${workspaceId}, ${integration?.id ?? null}, ${new Date(Date.now() - 86_400_000)}, ${user?.id ?? null})
    returning id`;
  if (!run) throw new Error('arrange');
  // Orders go to a pipeline of the workspace (chosen on the integration page in real life).
  const [pipeline] = await db.sql<{ id: string }[]>`
    insert into pipelines (workspace_id, name) values (${workspaceId}, 'Shopify') returning id`;
  await db.sql`insert into pipeline_stages (workspace_id, pipeline_id, name, position)
    values (${workspaceId}, ${pipeline?.id ?? null}, 'New', 0)`;
  await db.sql`update integrations set config = config || ${db.sql.json({ pipelineId: pipeline?.id ?? null })}
    where workspace_id = ${workspaceId}`;
  fake.expireAccessTokensAfter(fake.stats.graphql + 1);
  await runReconcileJob(world.app.deps, { runId: run.id, workspaceId, pageSize: 2 });
  const [done] = await db.sql<{ status: string; error: string | null; seen: number; created: number }[]>`
    select status, error, orders_seen as seen, orders_created as created from reconcile_runs where id = ${run.id}`;
  expect(done).toMatchObject({ status: 'succeeded', error: null, seen: 4, created: 4 });
}

beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startFakeShopify({
    oauthApp: { clientId: API_KEY, clientSecret: API_SECRET, name: 'CRM Sync' },
    shops: [
      {
        domain: CC_SHOP,
        name: 'Own App Store',
        ownApps: [{ clientId: CC_ID, clientSecret: CC_SECRET }],
        orders: weekOrders(1000n),
      },
      { domain: OAUTH_SHOP, name: 'Connected Store', orders: weekOrders(2000n) },
    ],
  });
  world = await arrangeWorld(db, {
    shopifyAdminBaseUrl: fake.baseUrl,
    shopifyApp: { apiKey: API_KEY, apiSecret: API_SECRET, scopes: ['read_orders', 'read_customers'] },
  });
  // The app's own URL is its public URL here, so Shopify's redirect comes back to it.
  world.app.deps.config.publicUrl = world.app.url;
  ccWorkspace = await newWorkspace('own-app');
  oauthWorkspace = await newWorkspace('connected');
  installWorkspace = await newWorkspace('installed');
  owner = await signedIn(world.app, 'owner@demo.test');
});
afterAll(async () => {
  // No request of the whole file reached a REST path of the fake.
  expect(fake?.stats.rest).toBe(0);
  await world?.app.close();
  await fake?.close();
  await db?.drop();
});

describe('Dev Dashboard app (client credentials)', () => {
  it('tests, saves, registers webhooks with one grant, and verifies webhooks with the client secret', async () => {
    const before = fake.stats.grants.client_credentials;
    const test = ok(
      await owner.api.integrations.testConnection.mutate({
        workspaceId: ccWorkspace,
        shopDomain: CC_SHOP,
        method: 'client_credentials',
        clientId: CC_ID,
        clientSecret: CC_SECRET,
      }),
    );
    expect(test).toMatchObject({ ok: true, shopName: 'Own App Store' });
    const saved = ok(
      await owner.api.integrations.save.mutate({
        workspaceId: ccWorkspace,
        config: baseConfig(CC_SHOP),
        method: 'client_credentials',
        clientId: CC_ID,
        clientSecret: CC_SECRET,
      }),
    );
    expect(saved.connection).toMatchObject({
      method: 'client_credentials',
      clientId: CC_ID,
      needsReconnection: false,
    });
    const reg = ok(await owner.api.integrations.registerWebhooks.mutate({ workspaceId: ccWorkspace }));
    expect(reg.subscriptions).toHaveLength(5);
    // The test's grant plus one for the saved connection's first use.
    expect(fake.stats.grants.client_credentials - before).toBe(2);
    const row = await integrationRow(ccWorkspace);
    expect(row?.access_token_expires_at).toBeInstanceOf(Date);

    const body = JSON.stringify({ id: 5_123_456_789_012_345, name: '#1001', line_items: [] });
    const res = await fetch(`${world.app.url}/webhooks/shopify`, {
      method: 'POST',
      headers: signedWebhookHeaders(body, { topic: 'orders/create', shopDomain: CC_SHOP, secret: CC_SECRET }),
      body,
    });
    expect(res.status).toBe(200);
  });

  it('reconciles, renewing a token that expires in the middle of the run', async () => {
    const before = fake.stats.grants.client_credentials;
    await reconcileThroughExpiry(ccWorkspace);
    expect(fake.stats.grants.client_credentials - before).toBe(1);
  });

  it('refuses a wrong client secret on the clientSecret field, without echoing it', async () => {
    const wrong = 'shpss_wrong_secret_for_this_app_000000000000';
    const r = await owner.api.integrations.testConnection.mutate({
      workspaceId: ccWorkspace,
      shopDomain: CC_SHOP,
      method: 'client_credentials',
      clientId: CC_ID,
      clientSecret: wrong,
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.data).toMatchObject({ code: 'BAD_REQUEST', field: 'clientSecret' });
    expect(r.raw).not.toContain(wrong);
  });

  it('10 workers meeting an expired token cause exactly 1 grant', async () => {
    const row = await integrationRow(ccWorkspace);
    const id = String(row?.id);
    fake.expireAccessTokens();
    await db.sql`update integrations set access_token_expires_at = now() - interval '1 second' where id = ${id}`;
    const before = fake.stats.grants.client_credentials;
    const renewedBefore = await renewals('client_credentials', 'renewed');
    const tokens = await Promise.all(workers(ccWorkspace, id).map((w) => w.current()));
    expect(new Set(tokens).size).toBe(1);
    expect(fake.stats.grants.client_credentials - before).toBe(1);
    expect((await renewals('client_credentials', 'renewed')) - renewedBefore).toBe(1); // the metric
  });

  it('10 workers refused with 401 (token revoked early) renew once and all succeed', async () => {
    const id = String((await integrationRow(ccWorkspace))?.id);
    fake.expireAccessTokens(); // Shopify refuses the stored token although it has not reached its expiry
    const before = fake.stats.grants.client_credentials;
    const lists = await Promise.all(
      workers(ccWorkspace, id).map((tokens) =>
        listWebhooks(world.app.deps.config, { shopDomain: CC_SHOP, tokens }),
      ),
    );
    expect(lists.every((l) => l.length === 5)).toBe(true);
    expect(fake.stats.grants.client_credentials - before).toBe(1);
  });
});

/** crm_shopify_token_renewals_total for one grant and outcome. */
async function renewals(grant: string, outcome: string): Promise<number> {
  const { values } = await metrics.tokenRenewals.get();
  return values.find((v) => v.labels.grant === grant && v.labels.outcome === outcome)?.value ?? 0;
}

async function connectWithShopify(client: TrpcClient, workspaceId: string, shop = OAUTH_SHOP): Promise<URL> {
  const { authorizeUrl } = ok(
    await client.api.integrations.startConnect.mutate({ workspaceId, shopDomain: shop }),
  );
  const screen = await fetch(authorizeUrl);
  expect(screen.status).toBe(200);
  expect(await screen.text()).toContain('Install');
  const form = new URL(authorizeUrl).searchParams;
  const approved = await fetch(`${fake.url}/${shop}/admin/oauth/authorize/approve`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    redirect: 'manual',
  });
  expect(approved.status).toBe(302);
  return new URL(approved.headers.get('location') ?? '');
}

async function callback(url: URL, client: TrpcClient | null): Promise<string> {
  const res = await fetch(url, {
    redirect: 'manual',
    headers: client?.cookie ? { cookie: `crm_session=${client.cookie}` } : {},
  });
  expect(res.status).toBe(302);
  return res.headers.get('location') ?? '';
}

describe('Connect with Shopify (authorization code, expiring tokens)', () => {
  it('connects through the grant screen and stores an expiring token and its refresh token', async () => {
    const url = await connectWithShopify(owner, oauthWorkspace);
    expect(url.pathname).toBe('/shopify/oauth/callback');
    const location = await callback(url, owner);
    expect(location).toBe(`${world.app.url}/w/${oauthWorkspace}/integration?connected=1`);
    const got = ok(await owner.api.integrations.get.query({ workspaceId: oauthWorkspace }));
    expect(got.integration?.connection).toMatchObject({ method: 'oauth', needsReconnection: false });
    expect(got.integration?.config.shopDomain).toBe(OAUTH_SHOP);
    const row = await integrationRow(oauthWorkspace);
    expect(row?.refresh_token_enc).toEqual(expect.any(String));
    expect(fake.stats.grants.authorization_code).toBe(1);
    ok(await owner.api.integrations.registerWebhooks.mutate({ workspaceId: oauthWorkspace }));
  });

  it('renews with the refresh token (rotated) once for 10 workers, and recovers a lost refresh answer', async () => {
    const id = String((await integrationRow(oauthWorkspace))?.id);
    const expire = async () => {
      fake.expireAccessTokens();
      await db.sql`update integrations set access_token_expires_at = now() - interval '1 second' where id = ${id}`;
    };
    await expire();
    const before = fake.stats.grants.refresh_token;
    const refreshBefore = (await integrationRow(oauthWorkspace))?.refresh_token_enc;
    await Promise.all(workers(oauthWorkspace, id).map((w) => w.current()));
    expect(fake.stats.grants.refresh_token - before).toBe(1);
    expect((await integrationRow(oauthWorkspace))?.refresh_token_enc).not.toBe(refreshBefore);

    // Shopify renews, but its answer never arrives: nothing is stored, the next renewal uses the
    // previous refresh token (still valid until its replacement is used) and succeeds.
    await expire();
    fake.loseNextGrantResponse();
    const lost = await owner.api.integrations.subscriptionHealth.mutate({ workspaceId: oauthWorkspace });
    expect(lost.ok).toBe(false);
    const health = ok(
      await owner.api.integrations.subscriptionHealth.mutate({ workspaceId: oauthWorkspace }),
    );
    expect(health.healthy).toBe(true);
    expect((await integrationRow(oauthWorkspace))?.needs_reconnection_at).toBeNull();
  });

  it('reconciles, refreshing a token that expires in the middle of the run', async () => {
    const before = fake.stats.grants.refresh_token;
    await reconcileThroughExpiry(oauthWorkspace);
    expect(fake.stats.grants.refresh_token - before).toBe(1);
  });

  it('refuses forged callbacks and stores nothing', async () => {
    // A genuine reconnect first: its code is used up.
    const used = await connectWithShopify(owner, oauthWorkspace);
    expect(await callback(used, owner)).toContain('connected=1');
    const snapshot = JSON.stringify(await integrationRow(oauthWorkspace));
    const good = await connectWithShopify(owner, oauthWorkspace);
    const q = good.searchParams;
    const resign = (changes: Record<string, string>) => {
      const params = new URLSearchParams(q);
      params.delete('hmac');
      for (const [k, v] of Object.entries(changes)) params.set(k, v);
      params.set('hmac', signOAuthQuery([...params.entries()], API_SECRET));
      const u = new URL(good);
      u.search = params.toString();
      return u;
    };
    const badHmac = new URL(good);
    badHmac.searchParams.set('hmac', '0'.repeat(64));
    expect(await callback(badHmac, owner)).toContain('shopify_connect_error=bad_hmac');
    expect(await callback(resign({ shop: 'evil.com' }), owner)).toContain('shopify_connect_error=bad_shop');
    expect(await callback(resign({ state: 'not-the-state' }), owner)).toContain(
      'shopify_connect_error=bad_state',
    );
    expect(
      await callback(resign({ timestamp: String(Math.floor(Date.now() / 1000) - 3600) }), owner),
    ).toContain('shopify_connect_error=stale');
    expect(await callback(good, null)).toContain('shopify_connect_error=not_signed_in');
    // Another owner session may not use this session's state.
    const other = await signedIn(world.app, 'owner@demo.test');
    expect(await callback(good, other)).toContain('shopify_connect_error=bad_state');
    // The state was used up by that attempt: the genuine callback cannot be replayed either.
    expect(await callback(good, owner)).toContain('shopify_connect_error=bad_state');
    // A new state with an already used code: Shopify refuses the code.
    const fresh = await connectWithShopify(owner, oauthWorkspace);
    const reused = new URLSearchParams(fresh.searchParams);
    reused.set('code', used.searchParams.get('code') ?? '');
    reused.delete('hmac');
    reused.set('hmac', signOAuthQuery([...reused.entries()], API_SECRET));
    const reusedUrl = new URL(fresh);
    reusedUrl.search = reused.toString();
    expect(await callback(reusedUrl, owner)).toContain('shopify_connect_error=refused');
    expect(JSON.stringify(await integrationRow(oauthWorkspace))).toBe(snapshot);
  });
});

describe('a connection Shopify no longer accepts', () => {
  it('marks needs reconnection, and webhooks are still stored', async () => {
    const app = fake.shop(CC_SHOP).ownApps.get(CC_ID);
    if (!app) throw new Error('arrange');
    app.clientSecret = 'shpss_rotated_in_the_dev_dashboard_000000000'; // the merchant rotated the secret
    fake.expireAccessTokens();
    const refused = await owner.api.integrations.registerWebhooks.mutate({ workspaceId: ccWorkspace });
    expect(refused.ok).toBe(false);
    const got = ok(await owner.api.integrations.get.query({ workspaceId: ccWorkspace }));
    expect(got.integration?.connection.needsReconnection).toBe(true);
    expect(got.integration?.isActive).toBe(true);

    const body = JSON.stringify({ id: 5_123_456_789_012_399, name: '#1002', line_items: [] });
    const res = await fetch(`${world.app.url}/webhooks/shopify`, {
      method: 'POST',
      headers: signedWebhookHeaders(body, { topic: 'orders/create', shopDomain: CC_SHOP, secret: CC_SECRET }),
      body,
    });
    expect(res.status).toBe(200);
    const [stored] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from webhook_events e join integrations i on i.id = e.integration_id
      where i.workspace_id = ${ccWorkspace}`;
    expect(stored?.n).toBe(2);
  });

  it('an agent sees the connection read-only, and no response carried a secret or token', async () => {
    const agent = await signedIn(world.app, 'agent@demo.test');
    const got = ok(await agent.api.integrations.get.query({ workspaceId: oauthWorkspace }));
    expect(got.canEdit).toBe(false);
    expect(
      (
        await agent.api.integrations.startConnect.mutate({
          workspaceId: oauthWorkspace,
          shopDomain: OAUTH_SHOP,
        })
      ).ok,
    ).toBe(false);
    // Every token and secret stored for these connections, in plain text.
    const rows = await db.sql<{ a: string | null; r: string | null; c: string | null }[]>`
      select access_token_enc as a, refresh_token_enc as r, client_secret_enc as c from integrations
      where workspace_id in (${ccWorkspace}, ${oauthWorkspace})`;
    const secrets = [CC_SECRET, API_SECRET];
    for (const row of rows) {
      for (const enc of [row.a, row.r, row.c]) if (enc) secrets.push(decryptSecret(enc, world.app.deps.key));
    }
    expect(secrets.length).toBeGreaterThan(4);
    for (const t of transcript) for (const s of secrets) expect(t.raw).not.toContain(s);
  });
});

describe("an install that starts on Shopify's side", () => {
  const appUrl = () => `${world.app.url}/shopify/install`;
  const open = async (url: string) => {
    const res = await fetch(url, { redirect: 'manual' });
    expect(res.status).toBe(302);
    return res.headers.get('location') ?? '';
  };
  const app = { clientId: API_KEY, clientSecret: API_SECRET };

  it('verifies the app link (hmac, shop, timestamp), then the person picks a workspace they own and approves', async () => {
    fake.addShop({ domain: INSTALL_SHOP, name: 'Installed From Admin' });
    // Forged or stale links go to the install screen with the reason only.
    const forged = new URL(installLink(app, appUrl(), INSTALL_SHOP));
    forged.searchParams.set('shop', 'another-store.myshopify.com');
    expect(await open(forged.toString())).toBe(`${world.app.url}/install?error=bad_hmac`);
    const wrongSecret = installLink(
      { clientId: API_KEY, clientSecret: 'shpss_not_the_app_secret' },
      appUrl(),
      INSTALL_SHOP,
    );
    expect(await open(wrongSecret)).toBe(`${world.app.url}/install?error=bad_hmac`);
    expect(await open(installLink(app, appUrl(), 'evil.example.com'))).toBe(
      `${world.app.url}/install?error=bad_shop`,
    );
    const stale = installLink(app, appUrl(), INSTALL_SHOP, Date.now() - 3_600_000);
    expect(await open(stale)).toBe(`${world.app.url}/install?error=stale`);

    // A signed link: on to the SPA's install screen with the shop.
    const location = await open(installLink(app, appUrl(), INSTALL_SHOP));
    expect(location).toBe(`${world.app.url}/install?shop=${INSTALL_SHOP}`);

    // The screen: an agent of the workspace cannot start it there; its owner can, and lands on it.
    const agent = await signedIn(world.app, 'agent@demo.test');
    const refused = await agent.api.integrations.startConnect.mutate({
      workspaceId: installWorkspace,
      shopDomain: INSTALL_SHOP,
    });
    expect(refused.ok).toBe(false);
    const back = await connectWithShopify(owner, installWorkspace, INSTALL_SHOP);
    expect(await callback(back, owner)).toBe(
      `${world.app.url}/w/${installWorkspace}/integration?connected=1`,
    );
    const got = ok(await owner.api.integrations.get.query({ workspaceId: installWorkspace }));
    expect(got.integration?.connection).toMatchObject({ method: 'oauth', needsReconnection: false });
    expect(got.integration?.config.shopDomain).toBe(INSTALL_SHOP);
  });

  it('uninstalled on Shopify: app/uninstalled deactivates the integration, the next Admin call marks needs reconnection, compliance webhooks are still stored', async () => {
    ok(await owner.api.integrations.registerWebhooks.mutate({ workspaceId: installWorkspace }));
    expect([...fake.shop(INSTALL_SHOP).webhooks.values()].map((w) => w.topic)).toContain('app/uninstalled');
    await fake.uninstall(INSTALL_SHOP, API_KEY);
    await world.app.runJobs();
    const events = await db.sql<{ topic: string; status: string }[]>`
      select e.topic, e.status from webhook_events e join integrations i on i.id = e.integration_id
      where i.workspace_id = ${installWorkspace}`;
    expect(events).toEqual([{ topic: 'app/uninstalled', status: 'processed' }]);
    let got = ok(await owner.api.integrations.get.query({ workspaceId: installWorkspace }));
    expect(got.integration?.isActive).toBe(false);
    // The owner is told at once, before any Admin call finds the tokens revoked.
    expect(got.integration?.connection).toMatchObject({
      needsReconnection: true,
      needsReconnectionReason: expect.stringContaining('uninstalled'),
    });

    // Shopify refuses the revoked tokens, and renewal cannot help: still needs reconnection.
    const refused = await owner.api.integrations.registerWebhooks.mutate({ workspaceId: installWorkspace });
    expect(refused.ok).toBe(false);
    got = ok(await owner.api.integrations.get.query({ workspaceId: installWorkspace }));
    expect(got.integration?.connection.needsReconnection).toBe(true);

    // Shopify's shop/redact (48 hours after an uninstall) is still verified and stored.
    const body = JSON.stringify({ shop_id: 548_380_009, shop_domain: INSTALL_SHOP });
    const res = await fetch(`${world.app.url}/webhooks/shopify`, {
      method: 'POST',
      headers: signedWebhookHeaders(body, {
        topic: 'shop/redact',
        shopDomain: INSTALL_SHOP,
        secret: API_SECRET,
      }),
      body,
    });
    expect(res.status).toBe(200);
    const [stored] = await db.sql<{ n: number }[]>`
      select count(*)::int as n from webhook_events e join integrations i on i.id = e.integration_id
      where i.workspace_id = ${installWorkspace} and e.topic = 'shop/redact'`;
    expect(stored?.n).toBe(1);
  });

  it('reinstalled: connecting the store again re-activates what the uninstall disabled, and orders sync again', async () => {
    const back = await connectWithShopify(owner, installWorkspace, INSTALL_SHOP);
    expect(await callback(back, owner)).toBe(
      `${world.app.url}/w/${installWorkspace}/integration?connected=1`,
    );
    const got = ok(await owner.api.integrations.get.query({ workspaceId: installWorkspace }));
    expect(got.integration?.isActive).toBe(true);
    expect(got.integration?.connection).toMatchObject({
      needsReconnection: false,
      needsReconnectionReason: null,
    });
    ok(await owner.api.integrations.registerWebhooks.mutate({ workspaceId: installWorkspace }));

    // An integration the owner disabled stays disabled when the store is connected again.
    ok(await owner.api.integrations.setEnabled.mutate({ workspaceId: installWorkspace, enabled: false }));
    await callback(await connectWithShopify(owner, installWorkspace, INSTALL_SHOP), owner);
    const still = ok(await owner.api.integrations.get.query({ workspaceId: installWorkspace }));
    expect(still.integration?.isActive).toBe(false);
    ok(await owner.api.integrations.setEnabled.mutate({ workspaceId: installWorkspace, enabled: true }));
  });
});

describe('what the Connection card tells the owner', () => {
  it('counts orders that arrived without customer details (protected customer data withheld)', async () => {
    const before = ok(await owner.api.integrations.get.query({ workspaceId: oauthWorkspace }));
    expect(before.health?.ordersWithoutCustomer).toBe(0);
    // What Shopify sends an app without protected customer data: no customer, email, phone or addresses.
    const body = JSON.stringify({
      id: 5_123_456_789_012_401,
      admin_graphql_api_id: 'gid://shopify/Order/5123456789012401',
      name: '#7401',
      created_at: new Date().toISOString(),
      updated_at: new Date().toISOString(),
      currency: 'COP',
      total_price: '10000.00',
      financial_status: 'pending',
      email: null,
      phone: null,
      customer: null,
      shipping_address: null,
      billing_address: null,
      line_items: [],
    });
    const res = await fetch(`${world.app.url}/webhooks/shopify`, {
      method: 'POST',
      headers: signedWebhookHeaders(body, {
        topic: 'orders/create',
        shopDomain: OAUTH_SHOP,
        secret: API_SECRET,
      }),
      body,
    });
    expect(res.status).toBe(200);
    await world.app.runJobs();
    const after = ok(await owner.api.integrations.get.query({ workspaceId: oauthWorkspace }));
    expect(after.health?.ordersWithoutCustomer).toBe(1);
  });

  it('warns when Admin API answers or webhook deliveries carry another API version', async () => {
    fake.setVersionAnswer({ version: '2027-01' });
    try {
      ok(await owner.api.integrations.registerWebhooks.mutate({ workspaceId: oauthWorkspace }));
    } finally {
      fake.setVersionAnswer({ version: null });
    }
    const got = ok(await owner.api.integrations.get.query({ workspaceId: oauthWorkspace }));
    expect(got.integration?.connection.apiWarning).toContain('API version 2027-01');
    expect(got.health?.deliveryApiWarning ?? '').not.toContain('2025-07');

    const body = JSON.stringify({ id: 5_123_456_789_012_402, name: '#7402', line_items: [] });
    const res = await fetch(`${world.app.url}/webhooks/shopify`, {
      method: 'POST',
      headers: signedWebhookHeaders(body, {
        topic: 'orders/updated',
        shopDomain: OAUTH_SHOP,
        secret: API_SECRET,
        apiVersion: '2025-07',
      }),
      body,
    });
    expect(res.status).toBe(200);
    const later = ok(await owner.api.integrations.get.query({ workspaceId: oauthWorkspace }));
    expect(later.health?.deliveryApiWarning).toContain('webhooks in API version 2025-07');
  });
});
