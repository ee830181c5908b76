/** Arranging the "connect a store" specs: workspaces of their own, shops on the fake, its counters. */
import { decryptSecret, parseEncryptionKey } from '@crm/db';
import { signedWebhookHeaders, signOAuthQuery } from '@crm/shopify';
import { expect } from '@playwright/test';
import { baseUrl, database } from './helpers.ts';

export { SHOPIFY_APP } from './shopify-app.ts';

function fakeUrl(): string {
  const url = process.env.E2E_FAKE_SHOPIFY_URL;
  if (!url) throw new Error('E2E_FAKE_SHOPIFY_URL is not set');
  return url;
}

/**
 * A workspace of its own (the demo one stays as the other specs expect it), with the demo owner as
 * owner and the demo agent as agent, and a pipeline with one stage ("Incoming"), as the CRM's
 * pipeline settings would make it. Returns its id; the same one when called again (Playwright runs
 * beforeAll again in a new worker after a failure).
 */
export async function newWorkspace(name: string): Promise<string> {
  const sql = database();
  try {
    const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    const [existing] = await sql<{ id: string }[]>`select id from workspaces where slug = ${slug}`;
    if (existing) return existing.id;
    const [ws] = await sql<{ id: string }[]>`
      insert into workspaces (name, slug) values (${name}, ${slug}) returning id`;
    if (!ws) throw new Error('arrange: no workspace');
    await sql`insert into workspace_members (workspace_id, user_id, role)
      select ${ws.id}, id, case email when 'owner@demo.test' then 'owner' else 'agent' end
      from users where email in ('owner@demo.test', 'agent@demo.test')`;
    const [pipeline] = await sql<{ id: string }[]>`
      insert into pipelines (workspace_id, name) values (${ws.id}, 'Shopify orders') returning id`;
    await sql`insert into pipeline_stages (workspace_id, pipeline_id, name, position)
      values (${ws.id}, ${pipeline?.id ?? null}, 'Incoming', 0)`;
    return ws.id;
  } finally {
    await sql.end();
  }
}

/** The integration's orders go to the workspace's pipeline (what the settings form does; 01 covers it). */
export async function usePipeline(workspaceId: string): Promise<void> {
  const sql = database();
  try {
    await sql`update integrations i set config = i.config || jsonb_build_object('pipelineId', p.id)
      from pipelines p where p.workspace_id = i.workspace_id and i.workspace_id = ${workspaceId}`;
  } finally {
    await sql.end();
  }
}

/** Every token and secret stored for the workspace's integration, in plain text. */
export async function storedSecrets(workspaceId: string): Promise<string[]> {
  const keyText = process.env.E2E_APP_ENCRYPTION_KEY;
  if (!keyText) throw new Error('E2E_APP_ENCRYPTION_KEY is not set');
  const key = parseEncryptionKey(keyText);
  const sql = database();
  try {
    const rows = await sql<{ a: string | null; r: string | null; c: string | null; w: string | null }[]>`
      select access_token_enc as a, refresh_token_enc as r, client_secret_enc as c, webhook_secret_enc as w
      from integrations where workspace_id = ${workspaceId}`;
    return rows.flatMap((row) =>
      [row.a, row.r, row.c, row.w].filter((v): v is string => v !== null).map((v) => decryptSecret(v, key)),
    );
  } finally {
    await sql.end();
  }
}

/** Adds a shop to the fake (its /__fake/ control endpoint); one already there is kept as it is. */
export async function addFakeShop(input: {
  domain: string;
  name: string;
  ownApps?: { clientId: string; clientSecret: string }[];
}): Promise<void> {
  const res = await fetch(`${fakeUrl()}/__fake/shops`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(input),
  });
  expect([200, 201], await res.clone().text()).toContain(res.status);
}

/** The merchant uninstalls the app on the fake: tokens revoked, app/uninstalled sent. */
export async function uninstallOnFake(shop: string, clientId: string): Promise<void> {
  const res = await fetch(`${fakeUrl()}/__fake/uninstall`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ shop, clientId }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

/** The app's access ends on the fake without any webhook (Dev Dashboard app deleted, access revoked). */
export async function revokeOnFake(shop: string, clientId: string): Promise<void> {
  const res = await fetch(`${fakeUrl()}/__fake/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ shop, clientId }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

/** The fake's counters: GraphQL requests, REST requests (must stay 0), grants by type. */
export async function fakeStats(): Promise<{
  graphql: number;
  rest: number;
  grants: Record<string, number>;
}> {
  const res = await fetch(`${fakeUrl()}/__fake/stats`);
  return (await res.json()) as { graphql: number; rest: number; grants: Record<string, number> };
}

/** Posts a payload as Shopify does for this shop, signed with this secret. */
export async function postSignedWebhook(body: string, shopDomain: string, secret: string): Promise<void> {
  const res = await fetch(`${baseUrl()}/webhooks/shopify`, {
    method: 'POST',
    headers: signedWebhookHeaders(body, { topic: 'orders/create', shopDomain, secret }),
    body,
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

/** The app URL as Shopify opens it for an install that starts on its side: shop, host, timestamp, hmac. */
export function installLink(secret: string, shop: string, nowMs = Date.now()): string {
  const params: [string, string][] = [
    ['host', Buffer.from(`admin.shopify.com/store/${shop.split('.')[0]}`).toString('base64url')],
    ['shop', shop],
    ['timestamp', String(Math.floor(nowMs / 1000))],
  ];
  const query = new URLSearchParams(params);
  query.set('hmac', signOAuthQuery(params, secret));
  return `${baseUrl()}/shopify/install?${query}`;
}
