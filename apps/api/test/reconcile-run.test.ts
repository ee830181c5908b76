/**
 * Reconciliation against a real PostgreSQL and the fake Shopify over real HTTP: several GraphQL pages
 * with a THROTTLED answer in between create exactly the orders the CRM is missing, progress is
 * committed page by page, and a bad token fails the run with a clear error.
 */
import { encryptSecret, last4, seed } from '@crm/db';
import { createTestDatabase, freePort, type TestDatabase } from '@crm/db/testing';
import {
  DEMO_ACCESS_TOKEN,
  DEMO_SHOP,
  type FakeShopify,
  orderFromRest,
  readOrderFixture,
  startFakeShopify,
  variantOfOrder,
} from '@crm/fake-shopify';
import { validateOrder } from '@crm/shopify';
import { type GqlOrder, graphqlOrderToRest } from '@crm/shopify/admin-graphql';
import { runMigrations } from 'graphile-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import type { AppDeps } from '../src/deps.ts';
import { type IntegrationSettings, integrationConfigSchema } from '../src/integration-config.ts';
import { createLogger } from '../src/log.ts';
import { applyShopifyOrder } from '../src/orders/apply-order.ts';
import { startReconcile } from '../src/reconcile/start.ts';
import { runReconcileJob } from '../src/reconcile/task.ts';

type RunRow = {
  status: string;
  pages: number;
  ordersSeen: number;
  ordersCreated: number;
  ordersUpdated: number;
  error: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
};

let db: TestDatabase;
let fake: FakeShopify;
let deps: AppDeps;
let workspaceId: string;
let integrationId: string;
let ownerId: string;
let adminId: string;
let shopOrders: GqlOrder[];
const SINCE = new Date('2026-03-01T00:00:00Z');

async function newRun(since = SINCE): Promise<string> {
  const [run] = await db.sql<{ id: string }[]>`
    insert into reconcile_runs (workspace_id, integration_id, since, requested_by)
    values (${workspaceId}, ${integrationId}, ${since}, ${ownerId}) returning id`;
  if (!run) throw new Error('no run');
  return run.id;
}

async function runRow(runId: string): Promise<RunRow> {
  const [row] = await db.sql<RunRow[]>`
    select status, pages, orders_seen as "ordersSeen", orders_created as "ordersCreated",
           orders_updated as "ordersUpdated", error, started_at as "startedAt", finished_at as "finishedAt"
    from reconcile_runs where id = ${runId}`;
  if (!row) throw new Error('run not found');
  return row;
}

async function storedShopifyIds(): Promise<string[]> {
  const rows = await db.sql<{ id: string }[]>`
    select shopify_order_id as id from orders where workspace_id = ${workspaceId} and shopify_order_id is not null
    order by shopify_order_id`;
  return rows.map((r) => r.id);
}

async function integrationSettings(): Promise<IntegrationSettings> {
  const [row] = await db.sql<{ config: unknown; isActive: boolean }[]>`
    select config, is_active as "isActive" from integrations where id = ${integrationId}`;
  if (!row) throw new Error('no integration');
  return {
    ...integrationConfigSchema.parse(row.config),
    id: integrationId,
    workspaceId,
    isActive: row.isActive,
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  ({ workspaceId } = await seed(db.sql, { key: db.key }));
  const [integration] = await db.sql<{ id: string }[]>`
    select id from integrations where workspace_id = ${workspaceId} and type = 'shopify'`;
  const users = await db.sql<{ id: string; email: string }[]>`select id, email from users`;
  if (!integration) throw new Error('seed made no integration');
  integrationId = integration.id;
  ownerId = users.find((u) => u.email === 'owner@demo.test')?.id ?? '';
  adminId = users.find((u) => u.email === 'admin@demo.test')?.id ?? '';

  // Seven orders updated on seven days of March 2026, ids above 2^53, plus one from February (before SINCE).
  const cod = orderFromRest(readOrderFixture('orders-create.cod-co.json'));
  const base = BigInt(cod.legacyResourceId);
  shopOrders = Array.from({ length: 7 }, (_, i) =>
    variantOfOrder(cod, {
      id: base + 100n + BigInt(i),
      name: `#${5000 + i}`,
      updatedAt: new Date(Date.UTC(2026, 2, 2 + i, 12)).toISOString(),
    }),
  );
  const february = variantOfOrder(cod, { id: base + 99n, name: '#4999', updatedAt: '2026-02-10T12:00:00Z' });
  fake = await startFakeShopify({
    shops: [
      {
        domain: DEMO_SHOP,
        name: 'Demo Store',
        tokens: [DEMO_ACCESS_TOKEN],
        orders: [february, ...shopOrders],
      },
    ],
    // Restores fast, so waits for the bucket take milliseconds.
    throttle: { maximumAvailable: 1000, restoreRate: 50_000 },
  });
  deps = {
    sql: db.sql,
    key: db.key,
    config: { ...loadConfig({}), shopifyAdminBaseUrl: fake.baseUrl, webDist: null, workerConcurrency: 0 },
    log: createLogger(false),
  };
});

afterAll(async () => {
  await fake?.close();
  await db?.drop();
});

describe('runReconcileJob', () => {
  it('creates exactly the missing orders across several pages, through a THROTTLED answer', async () => {
    // Webhooks delivered three of the seven (the 1st, 4th and 7th); the others were missed.
    const integration = await integrationSettings();
    for (const node of [shopOrders[0], shopOrders[3], shopOrders[6]]) {
      if (!node) throw new Error('missing order');
      const { outcome } = await applyShopifyOrder(
        deps,
        integration,
        validateOrder(graphqlOrderToRest(node)),
        {
          topic: 'orders/create',
        },
      );
      expect(outcome).toBe('created');
    }
    expect(await storedShopifyIds()).toHaveLength(3);

    const runId = await newRun();
    // The second GraphQL request (page 2) finds the bucket drained and is answered THROTTLED.
    fake.throttleRequest(fake.stats.graphql + 2);
    const throttledBefore = fake.stats.throttled;
    const snapshots: RunRow[] = [];
    await runReconcileJob(
      deps,
      { runId, workspaceId, pageSize: 2 },
      {
        // Waiting for the rate limit: look at what the SPA would see at that moment.
        sleep: async (ms) => {
          snapshots.push(await runRow(runId));
          await new Promise((r) => setTimeout(r, ms));
        },
      },
    );

    const run = await runRow(runId);
    expect(run).toMatchObject({
      status: 'succeeded',
      error: null,
      pages: 4,
      ordersSeen: 7,
      ordersCreated: 4,
    });
    expect(run.startedAt).toBeInstanceOf(Date);
    expect(run.finishedAt).toBeInstanceOf(Date);
    expect(fake.stats.throttled).toBeGreaterThan(throttledBefore);
    // While it waited out the throttle, page 1 had been committed and the run was running.
    expect(snapshots[0]).toMatchObject({ status: 'running', pages: 1, ordersSeen: 2 });

    // Every order once, ids exact; the February order (before the date) was not imported.
    expect(await storedShopifyIds()).toEqual(shopOrders.map((o) => o.legacyResourceId).sort());
    const [sync] = await db.sql<{ lastSyncAt: Date | null }[]>`
      select last_sync_at as "lastSyncAt" from integrations where id = ${integrationId}`;
    expect(sync?.lastSyncAt).toBeInstanceOf(Date);
  });

  it('a second run creates nothing and applies a newer update', async () => {
    const changed = shopOrders[2];
    if (!changed) throw new Error('missing order');
    changed.updatedAt = '2026-03-20T12:00:00Z';
    changed.displayFinancialStatus = 'PAID';

    const runId = await newRun();
    await runReconcileJob(deps, { runId, workspaceId, pageSize: 3 });
    expect(await runRow(runId)).toMatchObject({
      status: 'succeeded',
      pages: 3,
      ordersSeen: 7,
      ordersCreated: 0,
      ordersUpdated: 1,
    });
    expect(await storedShopifyIds()).toHaveLength(7);
    const [row] = await db.sql<{ financialStatus: string | null }[]>`
      select financial_status as "financialStatus" from orders
      where workspace_id = ${workspaceId} and shopify_order_id = ${changed.legacyResourceId}`;
    expect(row?.financialStatus).toBe('paid');
  });

  it('a bad token fails the run with a clear error that never contains a token', async () => {
    const wrong = 'shpat_revoked_0000111122223333';
    await db.sql`
      update integrations set access_token_enc = ${encryptSecret(wrong, db.key)}, access_token_last4 = ${last4(wrong)}
      where id = ${integrationId}`;
    try {
      const runId = await newRun();
      await runReconcileJob(deps, { runId, workspaceId });
      const run = await runRow(runId);
      expect(run).toMatchObject({ status: 'failed', pages: 0, ordersSeen: 0, ordersCreated: 0 });
      // A legacy token cannot be renewed: the integration needs reconnecting, and the run says so.
      expect(run.error).toMatch(/no longer accepts this connection/);
      const [marked] = await db.sql<{ at: Date | null }[]>`
        select needs_reconnection_at as at from integrations where id = ${integrationId}`;
      expect(marked?.at).toBeInstanceOf(Date);
      expect(run.error).not.toContain(wrong);
      expect(run.error).not.toContain(DEMO_ACCESS_TOKEN);
      expect(run.finishedAt).toBeInstanceOf(Date);
    } finally {
      await db.sql`
        update integrations
        set access_token_enc = ${encryptSecret(DEMO_ACCESS_TOKEN, db.key)}, access_token_last4 = ${last4(DEMO_ACCESS_TOKEN)}
        where id = ${integrationId}`;
    }
  });

  it('Shopify unreachable fails the run and says so', async () => {
    const runId = await newRun();
    const closedPort = await freePort();
    const offline = {
      ...deps,
      config: { ...deps.config, shopifyAdminBaseUrl: `http://127.0.0.1:${closedPort}/{shop}` },
    };
    await runReconcileJob(offline, { runId, workspaceId });
    const run = await runRow(runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/Could not reach Shopify/);
  });

  it('a disabled integration fails the run without calling Shopify', async () => {
    await db.sql`update integrations set is_active = false where id = ${integrationId}`;
    try {
      const before = fake.requests.length;
      const runId = await newRun();
      await runReconcileJob(deps, { runId, workspaceId });
      expect(await runRow(runId)).toMatchObject({
        status: 'failed',
        error: expect.stringMatching(/disabled/),
      });
      expect(fake.requests.length).toBe(before);
    } finally {
      await db.sql`update integrations set is_active = true where id = ${integrationId}`;
    }
  });

  it('a finished run is not run again; a run of another workspace is not found', async () => {
    const runId = await newRun();
    await runReconcileJob(deps, { runId, workspaceId });
    const done = await runRow(runId);
    expect(done.status).toBe('succeeded');
    const before = fake.requests.length;
    await runReconcileJob(deps, { runId, workspaceId });
    // Acting for another workspace, RLS hides the run: nothing happens.
    const [other] = await db.sql<
      { id: string }[]
    >`select id from workspaces where id <> ${workspaceId} limit 1`;
    await runReconcileJob(deps, { runId, workspaceId: other?.id });
    expect(fake.requests.length).toBe(before);
    expect(await runRow(runId)).toEqual(done);
  });
});

describe('runReconcileJob with an order the CRM cannot take', () => {
  it('imports the others and fails the run naming the order and the field', async () => {
    const cod = shopOrders[0];
    if (!cod) throw new Error('missing order');
    const broken = variantOfOrder(cod, {
      id: BigInt(cod.legacyResourceId) + 500n,
      name: '#6000',
      updatedAt: '2026-03-01T13:00:00Z',
    });
    const line = broken.lineItems.nodes[0];
    if (!line) throw new Error('no line');
    line.quantity = 0;
    const good = variantOfOrder(cod, {
      id: BigInt(cod.legacyResourceId) + 501n,
      name: '#6001',
      updatedAt: '2026-03-01T14:00:00Z',
    });
    const orders = fake.shop(DEMO_SHOP).orders;
    orders.push(broken, good);
    try {
      const runId = await newRun();
      await runReconcileJob(deps, { runId, workspaceId, pageSize: 4 });
      const run = await runRow(runId);
      expect(run).toMatchObject({ status: 'failed', ordersSeen: 9, ordersCreated: 1 });
      expect(run.error).toMatch(/^1 of 9 orders could not be imported: #6000: line_items\[0\]\.quantity: /);
      expect(run.error).not.toMatch(/\.;|\.\.(?!\.)/); // one sentence, no doubled full stops
      expect(await storedShopifyIds()).toContain(good.legacyResourceId);
      expect(await storedShopifyIds()).not.toContain(broken.legacyResourceId);
    } finally {
      orders.splice(orders.indexOf(broken), 1);
    }
  });
});

describe('startReconcile', () => {
  beforeAll(async () => {
    // graphile-worker's schema, as the app installs it at startup.
    await runMigrations({ connectionString: db.url });
  });

  it('records a queued run as the owner and enqueues its job in the same transaction', async () => {
    const since = new Date('2026-03-05T00:00:00Z');
    const runId = await startReconcile(deps, { workspaceId, integrationId, since, requestedBy: ownerId });
    const [run] = await db.sql<{ status: string; since: Date; requestedBy: string }[]>`
      select status, since, requested_by as "requestedBy" from reconcile_runs where id = ${runId}`;
    expect(run).toEqual({ status: 'queued', since, requestedBy: ownerId });
    const jobs = await db.sql<{ payload: { runId: string; workspaceId: string } }[]>`
      select j.payload from graphile_worker._private_jobs j
      join graphile_worker._private_tasks t on t.id = j.task_id
      where t.identifier = 'reconcile_orders'`;
    expect(jobs.map((j) => j.payload)).toEqual([{ runId, workspaceId }]);

    // Pressing the button again while it is queued gives the same run, not a second one.
    expect(await startReconcile(deps, { workspaceId, integrationId, since, requestedBy: ownerId })).toBe(
      runId,
    );

    // The queued job's payload is what the task runs.
    const payload = jobs[0]?.payload;
    await runReconcileJob(deps, payload);
    expect(await runRow(runId)).toMatchObject({ status: 'succeeded', ordersSeen: 5, ordersCreated: 0 });
  });

  it('an admin (not the owner) cannot start one, not even get a running run; nothing is enqueued', async () => {
    await db.sql`delete from graphile_worker._private_jobs`;
    const runs = async () =>
      (await db.sql<{ n: number }[]>`select count(*)::int as n from reconcile_runs`)[0]?.n;
    const before = await runs();
    await expect(
      startReconcile(deps, { workspaceId, integrationId, since: SINCE, requestedBy: adminId }),
    ).rejects.toThrow(/Only the owner/);
    const [count] = await db.sql<
      { n: number }[]
    >`select count(*)::int as n from graphile_worker._private_jobs`;
    expect(count?.n).toBe(0);
    expect(await runs()).toBe(before);
  });

  it('RLS refuses the insert for a non-owner even past the role check', async () => {
    // The policy itself, as app_user for the admin: owner-only insert.
    await expect(
      db.sql.begin(async (tx) => {
        await tx`select set_config('role', 'app_user', true), set_config('app.user_id', ${adminId}, true)`;
        await tx`insert into reconcile_runs (workspace_id, integration_id, since) values (${workspaceId}, ${integrationId}, now())`;
      }),
    ).rejects.toThrow(/row-level security/);
  });
});
