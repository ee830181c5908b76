/**
 * NUL (U+0000), which PostgreSQL cannot store in text or jsonb, in any text a tRPC procedure takes:
 * a clear 400 naming the field, never a 500 and never a raw database error.
 */
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appRouter } from '../src/trpc/root.ts';
import { findUnstorableText } from '../src/trpc/trpc.ts';
import {
  arrangeWorld,
  type ProcedurePath,
  signedIn,
  TrpcClient,
  type TrpcResponse,
  transcript,
  type World,
} from './trpc-support.ts';

let db: TestDatabase;
let world: World;
let owner: TrpcClient;
const NUL = '\u0000';

beforeAll(async () => {
  db = await createTestDatabase();
  world = await arrangeWorld(db);
  owner = await signedIn(world.app, 'owner@demo.test');
});
afterAll(async () => {
  await world?.app.close();
  await db?.drop();
});

function expectRefused(r: TrpcResponse, field: string): void {
  expect(r.status).toBe(400);
  if (r.ok) throw new Error('unreachable');
  expect(r.error.data.code).toBe('BAD_REQUEST');
  expect(r.error.message).toBe(`${field}: Text may not contain the NUL character (U+0000).`);
}

describe('findUnstorableText', () => {
  it('finds NUL in nested strings and keys, and nothing in clean input', () => {
    expect(findUnstorableText({ a: 'x', b: [1, 'ok', { c: `y${NUL}` }] })).toBe('b.2.c');
    expect(findUnstorableText({ [`k${NUL}`]: 1 })).toBe(`k${NUL}`);
    expect(findUnstorableText(`${NUL}`)).toBe('');
    expect(findUnstorableText({ a: 'é\u0001\uffff', n: null, t: true })).toBeNull();
  });
});

describe('NUL in tRPC text inputs', () => {
  const ws = () => world.demo.workspaceId;
  const config = { shopDomain: 'demo-store.myshopify.com', defaultPhoneCountry: 'CO' };
  const cases: {
    name: string;
    type: 'query' | 'mutation';
    path: ProcedurePath;
    input: () => unknown;
    field: string;
    anonymous?: boolean;
  }[] = [
    {
      name: 'login email',
      type: 'mutation',
      path: 'auth.login',
      input: () => ({ email: `owner@demo.test${NUL}`, password: 'x' }),
      field: 'email',
      anonymous: true,
    },
    {
      name: 'login password',
      type: 'mutation',
      path: 'auth.login',
      input: () => ({ email: 'owner@demo.test', password: `demo${NUL}` }),
      field: 'password',
      anonymous: true,
    },
    {
      name: 'event topic filter',
      type: 'query',
      path: 'events.list',
      input: () => ({ workspaceId: ws(), topic: `orders/create${NUL}` }),
      field: 'topic',
    },
    {
      name: 'event list cursor',
      type: 'query',
      path: 'events.list',
      input: () => ({ workspaceId: ws(), cursor: `a${NUL}` }),
      field: 'cursor',
    },
    {
      name: 'order list cursor',
      type: 'query',
      path: 'orders.list',
      input: () => ({ workspaceId: ws(), cursor: `a${NUL}` }),
      field: 'cursor',
    },
    {
      name: 'integration name',
      type: 'mutation',
      path: 'integrations.save',
      input: () => ({ workspaceId: ws(), name: `Shop${NUL}`, config }),
      field: 'name',
    },
    {
      name: 'integration shop domain',
      type: 'mutation',
      path: 'integrations.save',
      input: () => ({ workspaceId: ws(), config: { ...config, shopDomain: `demo${NUL}.myshopify.com` } }),
      field: 'config.shopDomain',
    },
    {
      name: 'webhook signing secret',
      type: 'mutation',
      path: 'integrations.save',
      input: () => ({ workspaceId: ws(), config, webhookSecret: `${'s'.repeat(40)}${NUL}` }),
      field: 'webhookSecret',
    },
    {
      name: 'connection test domain',
      type: 'mutation',
      path: 'integrations.testConnection',
      input: () => ({ workspaceId: ws(), shopDomain: `x${NUL}` }),
      field: 'shopDomain',
    },
    {
      name: 'reconcile start date',
      type: 'mutation',
      path: 'reconcile.start',
      input: () => ({ workspaceId: ws(), since: `2026-01-01${NUL}` }),
      field: 'since',
    },
    {
      name: 'events stats day start',
      type: 'query',
      path: 'events.stats',
      input: () => ({ workspaceId: ws(), todayStart: `2026-01-01T00:00:00Z${NUL}` }),
      field: 'todayStart',
    },
  ];

  for (const c of cases) {
    it(`${c.name}: 400 naming the field`, async () => {
      const client = c.anonymous ? new TrpcClient(world.app.url) : owner;
      expectRefused(await client.call(c.type, c.path, c.input()), c.field);
    });
  }

  it('every procedure refuses NUL anywhere in its input with a 400, never a 500', async () => {
    const procedures = Object.entries(
      appRouter._def.procedures as unknown as Record<string, never>,
    ) as unknown as [ProcedurePath, { _def: { type: string } }][];
    expect(procedures.length).toBeGreaterThan(15);
    for (const [path, procedure] of procedures) {
      const type = procedure._def.type === 'query' ? 'query' : 'mutation';
      const r = await owner.call(type, path, { workspaceId: world.demo.workspaceId, note: `x${NUL}y` });
      expect({ path, status: r.status }).toEqual({ path, status: 400 });
      expectRefused(r, 'note');
    }
    // Nothing a database would have said reached any client.
    expect(transcript.filter((t) => /invalid byte sequence|unsupported Unicode|0x00/.test(t.raw))).toEqual(
      [],
    );
  });

  it('text without NUL (other control characters, any script) still works', async () => {
    const r = await owner.call('query', 'events.list', {
      workspaceId: world.demo.workspaceId,
      topic: 'ordérs/\u0001créate',
    });
    expect(r.ok).toBe(true);
  });
});
