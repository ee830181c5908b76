import type postgres from 'postgres';
import type { Sql } from './client.ts';
import { hashPassword } from './passwords.ts';
import { type EncryptionKey, encryptSecret, last4 } from './secrets.ts';

export const DEMO_PASSWORD = 'demo-password';
export const DEMO_SHOP_DOMAIN = 'demo-store.myshopify.com';
export const DEMO_USERS = ['owner@demo.test', 'admin@demo.test', 'agent@demo.test'] as const;

export type SeedOptions = {
  key: EncryptionKey;
  /** The demo store's webhook signing secret: DEMO_SHOPIFY_SECRET, else `demo-webhook-secret`. */
  webhookSecret?: string;
  /** An Admin API access token for the demo store (the local fake Shopify accepts it). */
  accessToken?: string;
};

type SeedTx = postgres.TransactionSql;

export type SeedResult = { seeded: boolean; workspaceId: string };

/**
 * The seed of the shared contract: workspace "Demo Store" with an owner, an admin and an agent, a
 * pipeline with stages, products with SKUs, a few contacts and a Shopify integration for
 * demo-store.myshopify.com. Runs once: a database that has the Demo Store already is left as it is.
 * Runs as the migrating role (a superuser or BYPASSRLS role), like the migrations.
 */
export async function seed(sql: Sql, options: SeedOptions): Promise<SeedResult> {
  // Empty counts as unset: an empty signing secret would let anyone sign the demo store's webhooks.
  const webhookSecret = options.webhookSecret || process.env.DEMO_SHOPIFY_SECRET || 'demo-webhook-secret';
  const accessToken = options.accessToken ?? 'shpat_0000000000_demo_store_token';
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  return (await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(7311524020)`;
    const [existing] = await tx<{ id: string }[]>`select id from workspaces where slug = 'demo-store'`;
    if (existing) return { seeded: false, workspaceId: existing.id };
    const ws = await seedWorkspacesAndUsers(tx, passwordHash);
    const { pipelineId, stageId } = await seedPipeline(tx, ws);
    await seedCatalogueAndContacts(tx, ws);
    await tx`
      insert into integrations ${tx({
        workspace_id: ws,
        type: 'shopify',
        name: 'Demo Store Shopify',
        config: tx.json({
          shopDomain: DEMO_SHOP_DOMAIN,
          pipelineId,
          stageId,
          productMatching: 'sku',
          fuzzyMatching: true,
          autoCreateOrders: true,
          defaultPhoneCountry: 'CO',
        }),
        access_token_enc: encryptSecret(accessToken, options.key),
        access_token_last4: last4(accessToken),
        webhook_secret_enc: encryptSecret(webhookSecret, options.key),
        webhook_secret_last4: last4(webhookSecret),
        credentials_tested_at: new Date(),
        is_active: true,
      })}`;
    return { seeded: true, workspaceId: ws };
  })) as SeedResult;
}

/** The Demo Store and the Demo Outlet, and their members (DEMO_USERS). Returns the Demo Store's id. */
async function seedWorkspacesAndUsers(tx: SeedTx, passwordHash: string): Promise<string> {
  const [ws] = await tx<{ id: string }[]>`
    insert into workspaces (name, slug) values ('Demo Store', 'demo-store') returning id`;
  const [outlet] = await tx<{ id: string }[]>`
    insert into workspaces (name, slug) values ('Demo Outlet', 'demo-outlet') returning id`;
  if (!ws || !outlet) throw new Error('seed: workspace not created');

  const users = await tx<{ id: string; email: string }[]>`
    insert into users ${tx([
      { email: 'owner@demo.test', name: 'Olivia Owner', password_hash: passwordHash },
      { email: 'admin@demo.test', name: 'Adam Admin', password_hash: passwordHash },
      { email: 'agent@demo.test', name: 'Ana Agent', password_hash: passwordHash },
    ])}
    returning id, email`;
  const id = (email: string) => {
    const u = users.find((x) => x.email === email);
    if (!u) throw new Error(`seed: user ${email} missing`);
    return u.id;
  };
  await tx`
    insert into workspace_members ${tx([
      { workspace_id: ws.id, user_id: id('owner@demo.test'), role: 'owner' },
      { workspace_id: ws.id, user_id: id('admin@demo.test'), role: 'admin' },
      { workspace_id: ws.id, user_id: id('agent@demo.test'), role: 'agent' },
      // The owner also works in a second workspace, so the switcher has something to switch to.
      { workspace_id: outlet.id, user_id: id('owner@demo.test'), role: 'agent' },
    ])}`;
  return ws.id;
}

/** The Shopify sales pipeline and its stages; returns it and its first stage. */
async function seedPipeline(tx: SeedTx, ws: string): Promise<{ pipelineId: string; stageId: string }> {
  const [pipeline] = await tx<{ id: string }[]>`
    insert into pipelines (workspace_id, name, position) values (${ws}, 'Ventas Shopify', 0) returning id`;
  if (!pipeline) throw new Error('seed: pipeline not created');
  const stages = await tx<{ id: string; name: string }[]>`
    insert into pipeline_stages ${tx(
      [
        { name: 'Nuevo', position: 0, is_closed: false, is_cancelled: false },
        { name: 'Confirmado', position: 1, is_closed: false, is_cancelled: false },
        { name: 'Enviado', position: 2, is_closed: false, is_cancelled: false },
        { name: 'Entregado', position: 3, is_closed: true, is_cancelled: false },
        { name: 'Cancelado', position: 4, is_closed: true, is_cancelled: true },
      ].map((s) => ({ ...s, workspace_id: ws, pipeline_id: pipeline.id })),
    )}
    returning id, name`;
  const firstStage = stages.find((s) => s.name === 'Nuevo');
  if (!firstStage) throw new Error('seed: stage missing');
  return { pipelineId: pipeline.id, stageId: firstStage.id };
}

/** Products with SKUs and a few contacts, one of them a fuzzy candidate for the COD fixture. */
async function seedCatalogueAndContacts(tx: SeedTx, ws: string): Promise<void> {
  await tx`
    insert into products ${tx(
      [
        { sku: 'SRM-VITC-30', title: 'Sérum Vitamina C 30 ml', price: '59950.00' },
        { sku: 'CRM-HID-50', title: 'Crema hidratante 50 ml', price: '42000.00' },
        { sku: 'PRT-SOL-50', title: 'Protector solar FPS 50', price: '68500.00' },
        { sku: 'IPOD2008GREEN', title: 'IPod Nano - 8gb - green', price: '199.00' },
        { sku: 'IPOD2008RED', title: 'IPod Nano - 8gb - red', price: '199.00' },
      ].map((p) => ({ ...p, workspace_id: ws })),
    )}`;
  await tx`
    insert into contacts ${tx(
      [
        {
          name: 'Juan Pérez',
          phone: '+573001112233',
          email: 'juan.perez@example.com',
          city: 'Medellín',
          department: 'Antioquia',
        },
        {
          name: 'Ana María Gómez',
          phone: '+573104445566',
          email: 'ana.gomez@example.com',
          city: 'Cali',
          department: 'Valle del Cauca',
        },
        // Looks like the customer of the COD fixture (same name and city, other phone): a fuzzy candidate.
        {
          name: 'Maria Jose Lopez Gutierrez',
          phone: '+573007654321',
          email: null,
          city: 'Bogota',
          department: 'Bogotá, D.C.',
        },
      ].map((c) => ({ ...c, workspace_id: ws })),
    )}`;
}
