/**
 * No log line carries a credential: secrets are driven through every log call site this test can
 * reach — login (right and wrong passwords), the session cookie, connection tests (bad and good
 * tokens), saving an integration, webhooks forged, carrying credentials in headers, stored and
 * processed — with the real pino logger at `trace`, and the output is searched for each of them.
 * A Dev Dashboard app's client credentials grant is driven too: a refused test (wrong client secret),
 * the grant, and its renewal after the token expired. Not yet driven here: the authorization-code
 * app's refresh-token renewal (connect-methods.test.ts covers it without reading logs); its fields
 * (accessToken, refreshToken, clientSecret, …) are covered by the redaction test below.
 */
import { randomUUID } from 'node:crypto';
import { withWorkspace } from '@crm/db';
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { type FakeShopify, startDemoFakeShopify } from '@crm/fake-shopify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrationTokenSource } from '../src/integrations/token-store.ts';
import { CENSOR, captureLogs } from '../src/log.ts';
import { arrangeWorld, ok, signedIn, TrpcClient, type World } from './trpc-support.ts';
import { deliver, orderPayload } from './webhook-support.ts';

const SHOP = 'log-secrets.myshopify.com';
const TOKEN = 'shpat_log_secret_token_7f3a9c2e51d04b86';
const SECRET = 'log-secret-webhook-signing-0a1b2c3d4e5f';
const WRONG_TOKEN = 'shpat_wrong_log_token_99aa88bb77cc66dd';
const WRONG_PASSWORD = 'Wr0ng-pa55word-never-logged-4821';
const CC_SHOP = 'log-secrets-cc.myshopify.com';
const CC_ID = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const CC_SECRET = 'shpss_log_secret_client_secret_5e6f7a8b9c0d';
const CC_WRONG = 'shpss_log_secret_wrong_client_secret_11223344';

let db: TestDatabase;
let fake: FakeShopify;
let world: World;
const capture = captureLogs('trace');

beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startDemoFakeShopify();
  fake.addShop({ domain: SHOP, name: 'Log Secrets', tokens: [TOKEN] });
  fake.addShop({
    domain: CC_SHOP,
    name: 'Log Secrets CC',
    ownApps: [{ clientId: CC_ID, clientSecret: CC_SECRET }],
  });
  world = await arrangeWorld(db, { shopifyAdminBaseUrl: fake.baseUrl });
  // From here on every line the app writes goes through the capturing logger.
  world.app.deps.log = capture.log;
});

afterAll(async () => {
  await world?.app.close();
  await fake?.close();
  await db?.drop();
});

describe('logs', () => {
  it('carry no secret from login, connection tests, saves, webhooks and processing', async () => {
    // Login: a wrong password, then a right one (its session cookie is a secret too).
    const stranger = new TrpcClient(world.app.url);
    expect((await stranger.login('owner@demo.test', WRONG_PASSWORD)).ok).toBe(false);
    const owner = await signedIn(world.app, 'owner@demo.test');
    const sessionCookie = owner.cookie ?? '';
    expect(sessionCookie.length).toBeGreaterThan(10);

    // A workspace of the owner's with no integration yet, to connect and save.
    const [ws] = await db.sql<{ id: string }[]>`
      insert into workspaces (name, slug) values ('Log Secrets', 'log-secrets') returning id`;
    if (!ws) throw new Error('arrange');
    await db.sql`insert into workspace_members (workspace_id, user_id, role)
                 select ${ws.id}, id, 'owner' from users where email = 'owner@demo.test'`;
    const [pipeline] = await db.sql<{ id: string }[]>`
      insert into pipelines (workspace_id, name) values (${ws.id}, 'P') returning id`;
    if (!pipeline) throw new Error('arrange');
    await db.sql`insert into pipeline_stages (workspace_id, pipeline_id, name, position)
                 values (${ws.id}, ${pipeline.id}, 'S', 0)`;

    const bad = ok(
      await owner.api.integrations.testConnection.mutate({
        workspaceId: ws.id,
        shopDomain: SHOP,
        accessToken: WRONG_TOKEN,
      }),
    );
    expect(bad.ok).toBe(false);
    const good = ok(
      await owner.api.integrations.testConnection.mutate({
        workspaceId: ws.id,
        shopDomain: SHOP,
        accessToken: TOKEN,
      }),
    );
    expect(good.ok).toBe(true);
    ok(
      await owner.api.integrations.save.mutate({
        workspaceId: ws.id,
        config: {
          shopDomain: SHOP,
          pipelineId: pipeline.id,
          stageId: null,
          productMatching: 'sku',
          fuzzyMatching: true,
          autoCreateOrders: true,
          defaultPhoneCountry: 'CO',
        },
        accessToken: TOKEN,
        webhookSecret: SECRET,
      }),
    );

    // Webhooks: forged (signed with a wrong secret that is itself a credential), carrying credentials
    // in headers, a malformed signed body, and good ones, processed.
    const forged = await deliver(world.app.url, {
      body: orderPayload().text,
      shopDomain: SHOP,
      secret: WRONG_TOKEN,
    });
    expect(forged.status).toBe(401);
    const withHeaders = await deliver(world.app.url, {
      body: orderPayload().text,
      shopDomain: SHOP,
      secret: SECRET,
      headers: { authorization: `Bearer ${TOKEN}`, cookie: sessionCookie, 'x-shopify-access-token': TOKEN },
    });
    expect(withHeaders.status).toBe(200);
    const malformed = await deliver(world.app.url, { body: '{"not json', shopDomain: SHOP, secret: SECRET });
    expect(malformed.status).toBe(400);
    const good1 = await deliver(world.app.url, {
      body: orderPayload().text,
      shopDomain: SHOP,
      secret: SECRET,
      webhookId: randomUUID(),
    });
    expect(good1.status).toBe(200);
    await world.app.runJobs();

    const text = capture.text();
    // The capture did see those call sites (so finding nothing means something).
    const msgs = new Set(capture.lines.map((l) => l.msg));
    expect(msgs.has('webhook')).toBe(true);
    expect(msgs.has('webhook event processed')).toBe(true);
    expect(capture.lines.filter((l) => l.msg === 'webhook').map((l) => l.fields.outcome)).toEqual(
      expect.arrayContaining(['bad_hmac', 'accepted', 'invalid_json']),
    );
    for (const secret of [
      TOKEN,
      SECRET,
      WRONG_TOKEN,
      WRONG_PASSWORD,
      'demo-password',
      sessionCookie,
      ...world.plaintextSecrets,
    ]) {
      expect(text, `a log line contains ${secret.slice(0, 6)}…`).not.toContain(secret);
    }
  });

  it('carry no secret from a client credentials grant, its renewal after expiry, and a refused renewal', async () => {
    const owner = await signedIn(world.app, 'owner@demo.test');
    const [ws] = await db.sql<{ id: string }[]>`
      insert into workspaces (name, slug) values ('Log Secrets CC', 'log-secrets-cc') returning id`;
    if (!ws) throw new Error('arrange');
    await db.sql`insert into workspace_members (workspace_id, user_id, role)
                 select ${ws.id}, id, 'owner' from users where email = 'owner@demo.test'`;
    const cc = {
      workspaceId: ws.id,
      shopDomain: CC_SHOP,
      method: 'client_credentials' as const,
      clientId: CC_ID,
    };
    const refused = await owner.api.integrations.testConnection.mutate({ ...cc, clientSecret: CC_WRONG });
    expect(refused.ok).toBe(false);
    expect(
      ok(await owner.api.integrations.testConnection.mutate({ ...cc, clientSecret: CC_SECRET })).ok,
    ).toBe(true);
    ok(
      await owner.api.integrations.save.mutate({
        ...cc,
        config: {
          shopDomain: CC_SHOP,
          pipelineId: null,
          stageId: null,
          productMatching: 'sku',
          fuzzyMatching: true,
          autoCreateOrders: true,
          defaultPhoneCountry: 'CO',
        },
        clientSecret: CC_SECRET,
      }),
    );
    const [row] = await db.sql<{ id: string }[]>`select id from integrations where workspace_id = ${ws.id}`;
    if (!row) throw new Error('arrange');
    const source = () =>
      integrationTokenSource(world.app.deps, (fn) => withWorkspace(db.sql, ws.id, fn), row.id);
    const first = await source().current();
    // Expired: the next use renews with a new client credentials grant.
    fake.expireAccessTokens();
    await db.sql`update integrations set access_token_expires_at = now() - interval '1 second' where id = ${row.id}`;
    const renewed = await source().current();
    expect(renewed).not.toBe(first);
    const text = capture.text();
    for (const secret of [CC_SECRET, CC_WRONG, first, renewed]) {
      expect(text, `a log line contains ${secret.slice(0, 6)}…`).not.toContain(secret);
    }
  });

  it('redacts every secret-bearing field by path, at the top level and one level down, and in child bindings', () => {
    const { log, text } = captureLogs('trace');
    const secrets = {
      password: 'pw-1-secret',
      accessToken: 'at-2-secret',
      refreshToken: 'rt-3-secret',
      clientSecret: 'cs-4-secret',
      webhookSecret: 'ws-5-secret',
      authorization: 'Bearer az-6-secret',
      cookie: 'sid=ck-7-secret',
      access_token: 'at-8-secret',
      refresh_token: 'rt-9-secret',
      client_secret: 'cs-10-secret',
      shopifyAdminToken: 'sat-11-secret',
    };
    log.info('top level', secrets);
    log.warn('nested', {
      request: secrets,
      headers: { authorization: 'Bearer hz-12-secret', 'set-cookie': 'sc-13-secret' },
    });
    log.child({ accessToken: 'child-14-secret', requestId: 'r-1' }).error('child');
    const out = text();
    for (const s of [...Object.values(secrets), 'hz-12-secret', 'sc-13-secret', 'child-14-secret']) {
      expect(out).not.toContain(s);
    }
    expect(out).toContain(CENSOR);
    expect(out).toContain('"requestId":"r-1"');
  });
});
