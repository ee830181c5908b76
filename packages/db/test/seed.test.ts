import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../src/passwords.ts';
import { withUser } from '../src/rls.ts';
import { decryptSecret } from '../src/secrets.ts';
import { DEMO_PASSWORD, DEMO_SHOP_DOMAIN, DEMO_USERS, seed } from '../src/seed.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';

type IntegrationRow = {
  workspace_id: string;
  config: { shopDomain?: string; pipelineId?: string; stageId?: string; productMatching?: string };
  webhook_secret_enc: string;
  webhook_secret_last4: string;
  access_token_enc: string;
  is_active: boolean;
};

async function integrationOf(db: TestDatabase): Promise<IntegrationRow> {
  const [row] = await db.sql<IntegrationRow[]>`
    select workspace_id, config, webhook_secret_enc, webhook_secret_last4, access_token_enc, is_active
    from integrations where lower(config ->> 'shopDomain') = ${DEMO_SHOP_DOMAIN}`;
  if (!row) throw new Error('no demo integration');
  return row;
}

describe('seed', () => {
  let db: TestDatabase;
  let other: TestDatabase | undefined;
  const savedSecret = process.env.DEMO_SHOPIFY_SECRET;
  beforeAll(async () => {
    delete process.env.DEMO_SHOPIFY_SECRET;
    db = await createTestDatabase();
  });
  afterAll(async () => {
    if (savedSecret === undefined) delete process.env.DEMO_SHOPIFY_SECRET;
    else process.env.DEMO_SHOPIFY_SECRET = savedSecret;
    await db?.drop();
    await other?.drop();
  });

  it('seeds once, even when started twice at once; a later run seeds nothing', async () => {
    const [a, b] = await Promise.all([seed(db.sql, { key: db.key }), seed(db.sql, { key: db.key })]);
    expect([a?.seeded, b?.seeded].sort()).toEqual([false, true]);
    expect(a?.workspaceId).toBe(b?.workspaceId);
    const again = await seed(db.sql, { key: db.key });
    expect(again).toEqual({ seeded: false, workspaceId: a?.workspaceId });
    const [counts] = await db.sql<{ workspaces: number; users: number; integrations: number }[]>`
      select (select count(*)::int from workspaces where slug = 'demo-store') as workspaces,
             (select count(*)::int from users) as users,
             (select count(*)::int from integrations) as integrations`;
    expect(counts).toEqual({ workspaces: 1, users: 3, integrations: 1 });
  });

  it("creates the contract's users with their roles in Demo Store, password demo-password", async () => {
    const rows = await db.sql<{ email: string; role: string; password_hash: string }[]>`
      select u.email, m.role, u.password_hash from users u
      join workspace_members m on m.user_id = u.id join workspaces w on w.id = m.workspace_id
      where w.name = 'Demo Store' order by u.email`;
    expect(rows.map((r) => [r.email, r.role])).toEqual([
      ['admin@demo.test', 'admin'],
      ['agent@demo.test', 'agent'],
      ['owner@demo.test', 'owner'],
    ]);
    expect([...DEMO_USERS].sort()).toEqual(rows.map((r) => r.email));
    for (const r of rows) {
      expect(await verifyPassword(DEMO_PASSWORD, r.password_hash), r.email).toBe(true);
      expect(await verifyPassword('wrong-password', r.password_hash), r.email).toBe(false);
    }
  });

  it('creates a pipeline with ordered stages (one cancelled), products with SKUs and contacts', async () => {
    const { workspace_id: ws } = await integrationOf(db);
    const stages = await db.sql<{ name: string; position: number; is_cancelled: boolean }[]>`
      select s.name, s.position, s.is_cancelled from pipeline_stages s where s.workspace_id = ${ws}
      order by s.position`;
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.map((s) => s.position)).toEqual([...stages.map((s) => s.position)].sort((x, y) => x - y));
    expect(stages.filter((s) => s.is_cancelled)).toHaveLength(1);
    const [n] = await db.sql<{ products: number; skus: number; contacts: number }[]>`
      select (select count(*)::int from products where workspace_id = ${ws}) as products,
             (select count(*)::int from products where workspace_id = ${ws} and sku <> '') as skus,
             (select count(*)::int from contacts where workspace_id = ${ws}) as contacts`;
    expect(n?.products).toBeGreaterThanOrEqual(2);
    expect(n?.skus).toBe(n?.products);
    expect(n?.contacts).toBeGreaterThanOrEqual(2);
  });

  it('creates the Shopify integration for demo-store.myshopify.com with the webhook secret encrypted', async () => {
    const integration = await integrationOf(db);
    expect(integration.is_active).toBe(true);
    expect(integration.config.shopDomain).toBe(DEMO_SHOP_DOMAIN);
    expect(integration.webhook_secret_enc).not.toContain('demo-webhook-secret');
    expect(decryptSecret(integration.webhook_secret_enc, db.key)).toBe('demo-webhook-secret');
    expect(integration.webhook_secret_last4).toBe('cret');
    expect(decryptSecret(integration.access_token_enc, db.key).length).toBeGreaterThan(4);
    // The configured stage belongs to the configured pipeline of the same workspace.
    const [stage] = await db.sql<{ ok: boolean }[]>`
      select true as ok from pipeline_stages
      where id = ${integration.config.stageId ?? null} and pipeline_id = ${integration.config.pipelineId ?? null}
        and workspace_id = ${integration.workspace_id}`;
    expect(stage?.ok).toBe(true);
  });

  it('the seeded owner sees the integration through RLS; the agent cannot change it', async () => {
    const [owner, agent] = await db.sql<{ id: string }[]>`
      select id from users where email in ('owner@demo.test', 'agent@demo.test') order by email desc`;
    const seen = await withUser(db.sql, owner?.id ?? '', (tx) => tx`select id from integrations`);
    expect(seen).toHaveLength(1);
    const changed = await withUser(
      db.sql,
      agent?.id ?? '',
      (tx) => tx`update integrations set is_active = false`,
    );
    expect(changed.count).toBe(0);
  });

  it('uses DEMO_SHOPIFY_SECRET when set, and the default when it is set but empty', async () => {
    other = await createTestDatabase();
    process.env.DEMO_SHOPIFY_SECRET = 'from-the-environment';
    try {
      await seed(other.sql, { key: other.key });
    } finally {
      delete process.env.DEMO_SHOPIFY_SECRET;
    }
    expect(decryptSecret((await integrationOf(other)).webhook_secret_enc, other.key)).toBe(
      'from-the-environment',
    );

    // An empty signing secret would let anyone sign webhooks: empty means unset.
    await other.sql`delete from workspaces`;
    await other.sql`delete from users`;
    process.env.DEMO_SHOPIFY_SECRET = '';
    try {
      expect((await seed(other.sql, { key: other.key })).seeded).toBe(true);
    } finally {
      delete process.env.DEMO_SHOPIFY_SECRET;
    }
    expect(decryptSecret((await integrationOf(other)).webhook_secret_enc, other.key)).toBe(
      'demo-webhook-secret',
    );
  });
});
