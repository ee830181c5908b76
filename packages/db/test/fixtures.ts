import type { Sql } from '../src/client.ts';
import { randomPhone, uniqueSuffix } from './helpers.ts';

/**
 * Ids of one workspace's fixture rows. `spare*` rows are referenced by nothing, so deleting one
 * exercises only the policy (never a foreign key).
 */
export type WorkspaceFixture = {
  id: string;
  owner: string;
  contact: string;
  spareContact: string;
  pipeline: string;
  sparePipeline: string;
  stage: string;
  spareStage: string;
  product: string;
  spareProduct: string;
  integration: string;
  order: string;
  spareOrder: string;
  line: string;
  spareLine: string;
  event: string;
  spareEvent: string;
  review: string;
  spareReview: string;
  run: string;
  spareRun: string;
  connectionTest: string;
  /** The nonce hash (bytea as `\\x…` hex) of the owner's "Connect with Shopify" state row. */
  oauthState: string;
  /** A member (agent) whose membership row is the spare of workspace_members. */
  spareMember: string;
};

export type Fixtures = {
  a: WorkspaceFixture;
  b: WorkspaceFixture;
  users: {
    ownerA: string;
    adminA: string;
    agentA: string;
    ownerB: string;
    /** Member of no workspace. */
    newcomer: string;
    /** Agent in both workspaces; its membership rows are the deletable spares. */
    spare: string;
  };
};

async function one<T>(rows: Promise<T[]>): Promise<T> {
  const [row] = await rows;
  if (!row) throw new Error('fixture row not returned');
  return row;
}

async function insertUser(sql: Sql, label: string): Promise<string> {
  const row = await one(
    sql<{ id: string }[]>`
      insert into users (email, name, password_hash)
      values (${`${label}-${uniqueSuffix()}@test.example`}, ${label}, 'scrypt$not-a-real-hash')
      returning id`,
  );
  return row.id;
}

/** Inserts as the superuser one row into every tenant table of a workspace. */
async function buildWorkspace(sql: Sql, label: string, owner: string, spareMember: string) {
  const suffix = uniqueSuffix();
  const ws = await one(
    sql<{ id: string }[]>`
      insert into workspaces (name, slug) values (${`Workspace ${label}`}, ${`ws-${label}-${suffix}`}) returning id`,
  );
  const id = ws.id;
  const ids = async (query: Promise<{ id: string }[]>) => (await one(query)).id;
  const contact = await ids(sql`
    insert into contacts (workspace_id, name, phone, email, city)
    values (${id}, ${`Contact ${label}`}, ${randomPhone()}, ${`c-${suffix}@example.com`}, 'Bogotá') returning id`);
  const spareContact = await ids(sql`
    insert into contacts (workspace_id, name, phone) values (${id}, 'Spare', ${randomPhone()}) returning id`);
  const pipeline = await ids(
    sql`insert into pipelines (workspace_id, name) values (${id}, 'Sales') returning id`,
  );
  const sparePipeline = await ids(
    sql`insert into pipelines (workspace_id, name) values (${id}, 'Spare') returning id`,
  );
  const stage = await ids(sql`
    insert into pipeline_stages (workspace_id, pipeline_id, name, position)
    values (${id}, ${pipeline}, 'New', 0) returning id`);
  const spareStage = await ids(sql`
    insert into pipeline_stages (workspace_id, pipeline_id, name, position, is_closed, is_cancelled)
    values (${id}, ${pipeline}, 'Cancelled', 1, true, true) returning id`);
  const product = await ids(sql`
    insert into products (workspace_id, sku, title, price) values (${id}, 'SKU-1', 'Serum', '10.50') returning id`);
  const spareProduct = await ids(sql`
    insert into products (workspace_id, sku, title, price) values (${id}, 'SKU-2', 'Cream', '3.00') returning id`);
  const shopDomain = `shop-${label}-${suffix}.myshopify.com`;
  const integration = await ids(sql`
    insert into integrations (workspace_id, type, config)
    values (${id}, 'shopify', ${sql.json({ shopDomain })}) returning id`);
  const order = await ids(sql`
    insert into orders (workspace_id, contact_id, pipeline_id, stage_id, integration_id, shopify_order_id)
    values (${id}, ${contact}, ${pipeline}, ${stage}, ${integration}, '6114532901234567891') returning id`);
  const spareOrder = await ids(sql`
    insert into orders (workspace_id, pipeline_id, stage_id) values (${id}, ${pipeline}, ${stage}) returning id`);
  const line = await ids(sql`
    insert into order_products (workspace_id, order_id, product_id, sku, title, unit_price, quantity, subtotal)
    values (${id}, ${order}, ${product}, 'SKU-1', 'Serum', '10.50', 2, '21.00') returning id`);
  const spareLine = await ids(sql`
    insert into order_products (workspace_id, order_id, sku, title, unit_price, quantity, subtotal)
    values (${id}, ${order}, 'SHOPIFY-1', 'Unmatched', '1.00', 1, '1.00') returning id`);
  const event = await ids(sql`
    insert into webhook_events (workspace_id, integration_id, external_id, topic, shop_domain, payload, order_id)
    values (${id}, ${integration}, ${`wh-${suffix}-1`}, 'orders/create', ${shopDomain}, '{}', ${order}) returning id`);
  const spareEvent = await ids(sql`
    insert into webhook_events (workspace_id, integration_id, external_id, topic, shop_domain, payload)
    values (${id}, ${integration}, ${`wh-${suffix}-2`}, 'orders/paid', ${shopDomain}, '{}') returning id`);
  const review = await ids(sql`
    insert into contact_reviews (workspace_id, order_id, contact_id, candidate_contact_id, reasons)
    values (${id}, ${order}, ${contact}, ${spareContact}, '{name}') returning id`);
  const spareReview = await ids(sql`
    insert into contact_reviews (workspace_id, reasons) values (${id}, '{phone}') returning id`);
  const run = await ids(sql`
    insert into reconcile_runs (workspace_id, integration_id, since) values (${id}, ${integration}, now()) returning id`);
  const spareRun = await ids(sql`
    insert into reconcile_runs (workspace_id, integration_id, since) values (${id}, ${integration}, now()) returning id`);
  const connectionTest = await ids(sql`
    insert into integration_connection_tests (workspace_id, fingerprint, shop_domain, tested_by)
    values (${id}, ${Buffer.from(suffix)}, ${shopDomain}, ${owner}) returning id`);
  const oauthState = `\\x${Buffer.from(`state-${suffix}`).toString('hex')}`;
  await sql`
    insert into shopify_oauth_states (nonce_hash, user_id, workspace_id, session_hash, shop_domain)
    values (${oauthState}, ${owner}, ${id}, ${Buffer.from('session')}, ${shopDomain})`;
  await sql`insert into workspace_members (workspace_id, user_id, role) values (${id}, ${owner}, 'owner')`;
  await sql`insert into workspace_members (workspace_id, user_id, role) values (${id}, ${spareMember}, 'agent')`;
  return {
    id,
    owner,
    contact,
    spareContact,
    pipeline,
    sparePipeline,
    stage,
    spareStage,
    product,
    spareProduct,
    integration,
    order,
    spareOrder,
    line,
    spareLine,
    event,
    spareEvent,
    review,
    spareReview,
    run,
    spareRun,
    connectionTest,
    oauthState,
    spareMember,
  } satisfies WorkspaceFixture;
}

/** Workspace A (owner, admin, agent) and workspace B (owner), with rows in every tenant table of both. */
export async function buildFixtures(sql: Sql): Promise<Fixtures> {
  const [ownerA, adminA, agentA, ownerB, newcomer, spare] = await Promise.all(
    ['owner-a', 'admin-a', 'agent-a', 'owner-b', 'newcomer', 'spare'].map((l) => insertUser(sql, l)),
  );
  if (!ownerA || !adminA || !agentA || !ownerB || !newcomer || !spare) throw new Error('users missing');
  const a = await buildWorkspace(sql, 'a', ownerA, spare);
  const b = await buildWorkspace(sql, 'b', ownerB, spare);
  await sql`
    insert into workspace_members (workspace_id, user_id, role)
    values (${a.id}, ${adminA}, 'admin'), (${a.id}, ${agentA}, 'agent')`;
  return { a, b, users: { ownerA, adminA, agentA, ownerB, newcomer, spare } };
}
