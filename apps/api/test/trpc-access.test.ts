/**
 * Every tRPC procedure, called over real HTTP by the owner, an admin and an agent of the Demo Store,
 * by the owner of another workspace and with no session: allowed or refused as the roles say, and
 * never a leak — no response to one workspace's people carries the other workspace's data, and no
 * response at all carries a stored credential or its ciphertext.
 */
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { type FakeShopify, startDemoFakeShopify } from '@crm/fake-shopify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRouter } from '../src/trpc/root.ts';
import {
  arrangeWorld,
  codeOf,
  type ProcedurePath,
  signedIn,
  storedCiphertexts,
  TrpcClient,
  type TrpcResponse,
  transcript,
  type World,
} from './trpc-support.ts';

type Role = 'owner' | 'admin' | 'agent' | 'otherOwner' | 'anon';
const ROLES: Role[] = ['anon', 'otherOwner', 'agent', 'admin', 'owner'];
type Access = 'public' | 'session' | 'member' | 'owner';

type Ids = {
  eventId: string;
  runId: string;
  mergeReviews: Record<Role, string>;
  ignoreReviews: Record<Role, string>;
};

type Case = {
  path: ProcedurePath;
  type: 'query' | 'mutation';
  access: Access;
  input?: (role: Role) => unknown;
};

let db: TestDatabase;
let world: World;
let fake: FakeShopify;
let ids: Ids;
const clients = {} as Record<Role, TrpcClient>;
const ciphertexts = new Set<string>();

async function arrangeDemoData(): Promise<Ids> {
  const sql = db.sql;
  const ws = world.demo.workspaceId;
  const [event] = await sql<{ id: string }[]>`
    insert into webhook_events (workspace_id, integration_id, external_id, topic, shop_domain, payload, status,
                                last_error)
    values (${ws}, ${world.demo.integrationId}, 'demo-wh-1', 'orders/create', 'demo-store.myshopify.com',
            '{"id":820982911946154508}', 'failed', 'The order has no line items.')
    returning id`;
  const [run] = await sql<{ id: string }[]>`
    insert into reconcile_runs (workspace_id, integration_id, since, status, pages, orders_seen)
    values (${ws}, ${world.demo.integrationId}, now() - interval '2 days', 'succeeded', 2, 7) returning id`;
  if (!event || !run) throw new Error('arrange');
  const reviews = async (): Promise<Record<Role, string>> => {
    const out = {} as Record<Role, string>;
    for (const role of ROLES) {
      const [a] = await sql<{ id: string }[]>`
        insert into contacts (workspace_id, name, city) values (${ws}, ${`Dup ${role} ${Math.random()}`}, 'Cali')
        returning id`;
      const [b] = await sql<{ id: string }[]>`
        insert into contacts (workspace_id, name, city) values (${ws}, ${`Cand ${role} ${Math.random()}`}, 'Cali')
        returning id`;
      if (!a || !b) throw new Error('arrange');
      const [r] = await sql<{ id: string }[]>`
        insert into contact_reviews (workspace_id, contact_id, candidate_contact_id, reasons)
        values (${ws}, ${a.id}, ${b.id}, ${['name', 'city']}) returning id`;
      if (!r) throw new Error('arrange');
      out[role] = r.id;
    }
    return out;
  };
  const [contact] = await sql<{ id: string }[]>`select id from contacts where workspace_id = ${ws} limit 1`;
  const [order] = await sql<{ id: string }[]>`
    insert into orders (workspace_id, contact_id, pipeline_id, stage_id, integration_id, description,
                        shopify_order_id, shopify_order_name)
    values (${ws}, ${contact?.id ?? null}, ${world.demo.pipelineId}, ${world.demo.stageIds[0] ?? null},
            ${world.demo.integrationId}, '#1001 demo', '820982911946154508', '#1001')
    returning id`;
  await sql`
    insert into order_products (workspace_id, order_id, sku, title, unit_price, quantity, subtotal)
    values (${ws}, ${order?.id ?? null}, 'SRM-VITC-30', 'Sérum', 59950, 2, 119900)`;
  return { eventId: event.id, runId: run.id, mergeReviews: await reviews(), ignoreReviews: await reviews() };
}

const ws = () => world.demo.workspaceId;
const W = () => ({ workspaceId: ws() });

const CASES: Case[] = [
  { path: 'auth.me', type: 'query', access: 'session' },
  { path: 'workspaces.list', type: 'query', access: 'session' },
  { path: 'pipelines.list', type: 'query', access: 'member', input: W },
  { path: 'integrations.get', type: 'query', access: 'member', input: W },
  {
    path: 'integrations.testConnection',
    type: 'mutation',
    access: 'owner',
    input: () => ({ workspaceId: ws() }), // the stored domain and token
  },
  {
    path: 'integrations.save',
    type: 'mutation',
    access: 'owner',
    input: () => ({
      workspaceId: ws(),
      name: 'Demo Store Shopify',
      config: {
        shopDomain: 'demo-store.myshopify.com',
        pipelineId: world.demo.pipelineId,
        stageId: world.demo.stageIds[0],
        productMatching: 'sku',
        fuzzyMatching: true,
        autoCreateOrders: true,
        defaultPhoneCountry: 'CO',
      },
    }),
  },
  {
    path: 'integrations.setEnabled',
    type: 'mutation',
    access: 'owner',
    input: () => ({ ...W(), enabled: true }),
  },
  { path: 'integrations.registerWebhooks', type: 'mutation', access: 'owner', input: W },
  {
    path: 'integrations.startConnect',
    type: 'mutation',
    access: 'owner',
    input: () => ({ ...W(), shopDomain: 'demo-store.myshopify.com' }),
  },
  { path: 'integrations.subscriptionHealth', type: 'mutation', access: 'owner', input: W },
  { path: 'events.stats', type: 'query', access: 'member', input: W },
  { path: 'events.list', type: 'query', access: 'member', input: W },
  { path: 'events.detail', type: 'query', access: 'member', input: () => ({ ...W(), eventId: ids.eventId }) },
  {
    path: 'events.replay',
    type: 'mutation',
    access: 'owner',
    input: () => ({ ...W(), eventId: ids.eventId }),
  },
  { path: 'events.replayAllFailed', type: 'mutation', access: 'owner', input: W },
  { path: 'reconcile.list', type: 'query', access: 'member', input: W },
  { path: 'reconcile.status', type: 'query', access: 'member', input: () => ({ ...W(), runId: ids.runId }) },
  {
    path: 'reconcile.start',
    type: 'mutation',
    access: 'owner',
    input: () => ({ ...W(), since: new Date(Date.now() - 7 * 86_400_000).toISOString() }),
  },
  { path: 'contactReviews.list', type: 'query', access: 'member', input: W },
  {
    path: 'contactReviews.merge',
    type: 'mutation',
    access: 'member',
    input: (role) => ({ ...W(), reviewId: ids.mergeReviews[role] }),
  },
  {
    path: 'contactReviews.ignore',
    type: 'mutation',
    access: 'member',
    input: (role) => ({ ...W(), reviewId: ids.ignoreReviews[role] }),
  },
  { path: 'orders.list', type: 'query', access: 'member', input: W },
  { path: 'integrations.delete', type: 'mutation', access: 'owner', input: W },
  // auth.login and auth.logout are public: every caller may use them (a fresh client logs in).
  { path: 'auth.login', type: 'mutation', access: 'public' },
  { path: 'auth.logout', type: 'mutation', access: 'public' },
];

const EMAIL: Record<Exclude<Role, 'anon'>, string> = {
  owner: 'owner@demo.test',
  admin: 'admin@demo.test',
  agent: 'agent@demo.test',
  otherOwner: 'other@other.test',
};

function expected(access: Access, role: Role): string {
  if (access === 'public') return 'OK';
  if (role === 'anon') return 'UNAUTHORIZED';
  if (access === 'session') return 'OK';
  if (role === 'otherOwner') return 'NOT_FOUND';
  if (access === 'owner' && role !== 'owner') return 'FORBIDDEN';
  return 'OK';
}

async function snapshotCiphertexts(): Promise<void> {
  for (const c of await storedCiphertexts(db.sql)) ciphertexts.add(c);
}

beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startDemoFakeShopify();
  world = await arrangeWorld(db, {
    shopifyAdminBaseUrl: fake.baseUrl,
    shopifyApp: { apiKey: 'access-matrix-app', apiSecret: 'access-matrix-secret', scopes: ['read_orders'] },
  });
  ids = await arrangeDemoData();
  clients.anon = new TrpcClient(world.app.url);
  for (const role of ['owner', 'admin', 'agent', 'otherOwner'] as const) {
    clients[role] = await signedIn(world.app, EMAIL[role]);
  }
  await snapshotCiphertexts();
});
afterAll(async () => {
  await world?.app.close();
  await fake?.close();
  await db?.drop();
});

const demoMarkers = () => [
  world.demo.workspaceId,
  world.demo.integrationId,
  'Demo Store',
  'Juan Pérez',
  'Ventas Shopify',
];
const otherMarkers = () => [
  world.other.workspaceId,
  world.other.integrationId,
  world.other.marker,
  'other-co.myshopify',
];

describe('the access matrix', () => {
  it('covers every procedure of the router', () => {
    const all = Object.keys(appRouter._def.procedures).sort();
    expect(CASES.map((c) => c.path).sort()).toEqual(all);
  });

  const results: { path: string; role: Role; r: TrpcResponse }[] = [];

  for (const c of CASES) {
    it(`${c.path}: ${c.access}`, async () => {
      const refusedFirst = [...ROLES]; // anon, otherOwner, agent, admin, owner: refusals before the owner's change
      const before = await db.sql`select status, resolved_at from contact_reviews order by id`;
      for (const role of refusedFirst) {
        const client = c.path === 'auth.login' ? new TrpcClient(world.app.url) : clients[role];
        const input =
          c.path === 'auth.login'
            ? { email: role === 'anon' ? 'agent@demo.test' : EMAIL[role], password: 'demo-password' }
            : c.input?.(role);
        const r = await client.call(c.type, c.path, input);
        results.push({ path: c.path, role, r });
        const want = expected(c.access, role);
        expect({ role, code: codeOf(r), msg: r.ok ? '' : r.error.message }).toMatchObject({
          role,
          code: want,
        });
        if (want === 'FORBIDDEN' && !r.ok) expect(r.error.message).toMatch(/Only the workspace owner/);
        if (want === 'NOT_FOUND' && !r.ok) expect(r.error.message).toMatch(/not a member/);
        if (role === 'otherOwner' || role === 'anon') {
          // Refused callers changed nothing.
          expect(await db.sql`select status, resolved_at from contact_reviews order by id`).toEqual(before);
        }
      }
      await snapshotCiphertexts();
    });
  }

  it('prints the matrix (TRPC_MATRIX_LOG=1)', () => {
    if (!process.env.TRPC_MATRIX_LOG) return;
    for (const { path, role, r } of results) {
      console.log(path.padEnd(32), role.padEnd(11), codeOf(r), r.ok ? '' : r.error.message);
    }
  });

  it('never shows the other workspace to Demo Store people, nor the Demo Store to its owner', () => {
    for (const { path, role, r } of results) {
      const leaks = role === 'otherOwner' ? demoMarkers() : otherMarkers();
      for (const m of leaks) {
        if (
          role === 'otherOwner' &&
          (path === 'auth.me' || path === 'workspaces.list' || path === 'auth.login')
        )
          continue;
        expect({ path, role, leaked: r.raw.includes(m) ? m : null }).toEqual({ path, role, leaked: null });
      }
    }
    // The other owner sees their own workspace only.
    const me = results.find((x) => x.path === 'auth.me' && x.role === 'otherOwner');
    expect(me?.r.raw).toContain(world.other.workspaceId);
    expect(me?.r.raw).not.toContain(world.demo.workspaceId);
  });
});

describe('the other owner in their own workspace', () => {
  it('sees only their own data in every member query', async () => {
    const client = await signedIn(world.app, 'other@other.test');
    const own = { workspaceId: world.other.workspaceId };
    const queries = CASES.filter((c) => c.type === 'query' && c.access === 'member');
    for (const q of queries) {
      const input =
        q.path === 'events.detail' || q.path === 'reconcile.status'
          ? undefined // ids of the demo workspace: must be NOT_FOUND there
          : own;
      if (!input) continue;
      const r = await client.call('query', q.path, input);
      expect({ path: q.path, code: codeOf(r) }).toEqual({ path: q.path, code: 'OK' });
      for (const m of demoMarkers())
        expect({ path: q.path, leaked: r.raw.includes(m) ? m : null }).toEqual({
          path: q.path,
          leaked: null,
        });
    }
    const events = await client.api.events.list.query(own);
    expect(events.raw).toContain(world.other.marker);
    // A demo event id asked for through their own workspace: not found, not leaked.
    const cross = await client.api.events.detail.query({ ...own, eventId: ids.eventId });
    expect(codeOf(cross)).toBe('NOT_FOUND');
    const run = await client.api.reconcile.status.query({ ...own, runId: ids.runId });
    expect(codeOf(run)).toBe('NOT_FOUND');
    // A demo review merged through their own workspace: not found, unchanged.
    const merge = await client.api.contactReviews.merge.mutate({ ...own, reviewId: ids.mergeReviews.anon });
    expect(codeOf(merge)).toBe('NOT_FOUND');
    const [review] = await db.sql<{ status: string }[]>`
      select status from contact_reviews where id = ${ids.mergeReviews.anon}`;
    expect(review?.status).toBe('pending');
  });
});

describe('secrets', () => {
  it('no response or error message ever carried a stored credential or its ciphertext', async () => {
    await snapshotCiphertexts();
    const needles = [...world.plaintextSecrets, ...ciphertexts];
    // The ciphertext body alone (without the version, IV and tag) must not appear either.
    for (const c of ciphertexts) {
      const body = c.split('.')[3];
      if (body && body.length >= 8) needles.push(body);
    }
    expect(transcript.length).toBeGreaterThan(CASES.length * 4);
    for (const { path, raw } of transcript) {
      for (const n of needles) {
        expect({ path, found: raw.includes(n) ? n.slice(0, 6) : null }).toEqual({ path, found: null });
      }
    }
  });
});
