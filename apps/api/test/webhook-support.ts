/**
 * Shared arrangements of the webhook and processing tests: a shop (workspace, pipeline, products,
 * Shopify integration) in a test database, Shopify-shaped order payloads with ids above 2^53, signed
 * deliveries over real HTTP, and polling helpers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createSql, encryptSecret, last4, type Sql } from '@crm/db';
import type { TestDatabase } from '@crm/db/testing';
import { signedWebhookHeaders, signShopifyWebhook } from '@crm/shopify';
import { captureLogs, type LogFields, type Logger } from '../src/log.ts';

export type Shop = {
  workspaceId: string;
  integrationId: string;
  pipelineId: string;
  stages: { first: string; second: string; cancelled: string };
  shopDomain: string;
  secret: string;
};

export type ShopOptions = {
  shopDomain?: string;
  secret?: string;
  config?: Record<string, unknown>;
  isActive?: boolean;
  previousSecret?: { secret: string; expiresAt: Date };
};

/** A workspace with a pipeline (3 stages, one cancelled), three products and a Shopify integration. */
export async function createShop(db: TestDatabase, options: ShopOptions = {}): Promise<Shop> {
  const sql = db.sql;
  const suffix = randomBytes(4).toString('hex');
  const shopDomain = options.shopDomain ?? `shop-${suffix}.myshopify.com`;
  const secret = options.secret ?? `whsec-${suffix}`;
  const [ws] = await sql<{ id: string }[]>`
    insert into workspaces (name, slug) values (${`Shop ${suffix}`}, ${`shop-${suffix}`}) returning id`;
  if (!ws) throw new Error('no workspace');
  const [pipeline] = await sql<{ id: string }[]>`
    insert into pipelines (workspace_id, name) values (${ws.id}, 'Shopify') returning id`;
  if (!pipeline) throw new Error('no pipeline');
  const stages = await sql<{ id: string; name: string }[]>`
    insert into pipeline_stages (workspace_id, pipeline_id, name, position, is_cancelled)
    values (${ws.id}, ${pipeline.id}, 'Nuevo', 0, false),
           (${ws.id}, ${pipeline.id}, 'Confirmado', 1, false),
           (${ws.id}, ${pipeline.id}, 'Cancelado', 2, true)
    returning id, name`;
  const stage = (name: string) => {
    const s = stages.find((x) => x.name === name);
    if (!s) throw new Error(`no stage ${name}`);
    return s.id;
  };
  await sql`
    insert into products (workspace_id, sku, title, price)
    values (${ws.id}, 'SRM-VITC-30', 'Sérum Vitamina C 30 ml', 59950.00),
           (${ws.id}, 'CRM-HID-50', 'Crema hidratante 50 ml', 42000.00),
           (${ws.id}, 'IPOD2008GREEN', 'IPod Nano - 8gb - green', 199.00)`;
  const config = {
    shopDomain,
    pipelineId: pipeline.id,
    stageId: null,
    productMatching: 'sku',
    fuzzyMatching: true,
    autoCreateOrders: true,
    defaultPhoneCountry: 'CO',
    ...options.config,
  };
  const [integration] = await sql<{ id: string }[]>`
    insert into integrations (workspace_id, type, name, config, webhook_secret_enc, webhook_secret_last4,
                              webhook_secret_previous_enc, webhook_secret_previous_expires_at, is_active)
    values (${ws.id}, 'shopify', 'Shopify', ${sql.json(config)}, ${encryptSecret(secret, db.key)}, ${last4(secret)},
            ${options.previousSecret ? encryptSecret(options.previousSecret.secret, db.key) : null},
            ${options.previousSecret?.expiresAt ?? null}, ${options.isActive ?? true})
    returning id`;
  if (!integration) throw new Error('no integration');
  return {
    workspaceId: ws.id,
    integrationId: integration.id,
    pipelineId: pipeline.id,
    stages: { first: stage('Nuevo'), second: stage('Confirmado'), cancelled: stage('Cancelado') },
    shopDomain,
    secret,
  };
}

let sequence = 0;

/** A Shopify order id above 2^53 (as digits), unique per call. */
export function bigOrderId(): string {
  sequence += 1;
  return `61145329${String(Date.now() % 1e8).padStart(8, '0')}${String(sequence).padStart(3, '0')}`;
}

export type OrderOptions = {
  id?: string;
  name?: string;
  updatedAt?: string;
  cancelledAt?: string | null;
  financialStatus?: string;
  email?: string | null;
  phone?: string | null;
  firstName?: string;
  lastName?: string;
  city?: string;
  province?: string;
  address1?: string;
  note?: string | null;
  customerId?: string;
  lines?: { id?: string; sku: string; title: string; price: string; quantity: number; discount?: string }[];
  noteAttributes?: { name: string; value: string }[];
};

/**
 * The JSON text of an orders/* payload shaped like Shopify's (the COD fixture's shape), with its ids
 * written as bare numbers above 2^53, exactly as Shopify sends them.
 */
export function orderPayload(options: OrderOptions = {}): { id: string; text: string } {
  const id = options.id ?? bigOrderId();
  const customerId = options.customerId ?? '7294810023456789012';
  const first = options.firstName ?? 'María José';
  const last = options.lastName ?? 'López Gutiérrez';
  const phone = options.phone === undefined ? '300 123 4567' : options.phone;
  const address = {
    first_name: first,
    last_name: last,
    name: `${first} ${last}`,
    address1: options.address1 ?? 'Calle 63 # 9-45',
    address2: 'Apto 502',
    city: options.city ?? 'Bogotá',
    province: options.province ?? 'Bogotá, D.C.',
    country: 'Colombia',
    zip: '110231',
    phone,
    country_code: 'CO',
    province_code: 'DC',
  };
  const lines = (
    options.lines ?? [
      { sku: 'SRM-VITC-30', title: 'Sérum Vitamina C', price: '59950.00', quantity: 2, discount: '10906.00' },
      { sku: '', title: 'Cosmetiquera de regalo', price: '45000.00', quantity: 1, discount: '4094.00' },
    ]
  ).map((l, i) => ({
    id: `__LINE_${i}__`,
    rawId: l.id ?? `1501234567890${String(1000 + i)}`,
    sku: l.sku,
    title: l.title,
    name: l.title,
    quantity: l.quantity,
    price: l.price,
    total_discount: '0.00',
    discount_allocations: l.discount ? [{ amount: l.discount, discount_application_index: 0 }] : [],
  }));
  const updatedAt = options.updatedAt ?? '2026-02-04T15:57:03-05:00';
  const body = {
    id: '__ORDER_ID__',
    admin_graphql_api_id: `gid://shopify/Order/${id}`,
    name: options.name ?? '#2043',
    email: options.email === undefined ? 'maria.lopez@example.com' : options.email,
    phone: null,
    created_at: '2026-02-04T15:57:02-05:00',
    updated_at: updatedAt,
    cancelled_at: options.cancelledAt ?? null,
    currency: 'COP',
    financial_status: options.financialStatus ?? 'pending',
    gateway: 'Cash on Delivery (COD)',
    total_price: '161900.00',
    note: options.note === undefined ? 'Entregar en portería' : options.note,
    note_attributes: options.noteAttributes ?? [
      { name: 'Teléfono WhatsApp', value: '311 555 0142' },
      { name: 'Barrio', value: 'Chapinero' },
    ],
    customer: {
      id: '__CUSTOMER_ID__',
      email: options.email === undefined ? 'maria.lopez@example.com' : options.email,
      first_name: first,
      last_name: last,
      phone: null,
      default_address: address,
    },
    billing_address: address,
    shipping_address: address,
    line_items: lines.map(({ rawId: _rawId, ...l }) => l),
    shipping_lines: [{ title: 'Envío estándar', price: '12000.00' }],
  };
  let text = JSON.stringify(body, null, 2)
    .replace('"__ORDER_ID__"', id)
    .replace('"__CUSTOMER_ID__"', customerId);
  lines.forEach((l, i) => {
    text = text.replace(`"__LINE_${i}__"`, l.rawId);
  });
  return { id, text };
}

export function sign(body: string | Uint8Array, secret: string): string {
  return signShopifyWebhook(body, secret);
}

export type Delivery = {
  body: string | Uint8Array;
  topic?: string;
  shopDomain: string;
  secret?: string;
  webhookId?: string;
  headers?: Record<string, string | null>;
};

/** POSTs a delivery to the running app as Shopify would (signed with `secret` unless an HMAC header is given). */
export async function deliver(baseUrl: string, d: Delivery): Promise<{ status: number; body: unknown }> {
  const headers = signedWebhookHeaders(d.body, {
    topic: d.topic ?? 'orders/create',
    shopDomain: d.shopDomain,
    ...(d.secret !== undefined ? { secret: d.secret } : {}),
    ...(d.webhookId !== undefined ? { webhookId: d.webhookId } : {}),
  });
  for (const [k, v] of Object.entries(d.headers ?? {})) {
    delete headers[k.toLowerCase()];
    if (v !== null) headers[k] = v;
  }
  const response = await fetch(`${baseUrl}/webhooks/shopify`, { method: 'POST', headers, body: d.body });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, body };
}

/** Polls `check` until it returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false | null>,
  { timeoutMs = 15_000, intervalMs = 50, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false && value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function count(sql: Sql, table: string, where: string, params: unknown[] = []): Promise<number> {
  const [row] = await sql.unsafe<{ n: number }[]>(
    `select count(*)::int as n from ${table} where ${where}`,
    params as never[],
  );
  return row?.n ?? 0;
}

export type LogLine = { level: string; msg: string; fields: LogFields };

/** A logger that keeps its lines (a real pino logger, redaction included), to assert on them. */
export function captureLogger(): Logger & { lines: LogLine[] } {
  const { log, lines } = captureLogs();
  return Object.assign(log, { lines });
}

export type WorkerProcess = { process: ChildProcess; output: () => string; exited: Promise<number | null> };

/**
 * `npm run worker`'s entry as a child process against the test database (one worker, small pools,
 * silent unless `env` says otherwise).
 */
export function startWorkerProcess(db: TestDatabase, env: Record<string, string> = {}): WorkerProcess {
  let output = '';
  const p = spawn(process.execPath, ['--import', 'tsx', 'src/worker-main.ts'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      APP_ENCRYPTION_KEY: db.key.bytes.toString('base64'),
      WORKER_CONCURRENCY: '1',
      DB_POOL_SIZE: '3',
      LOG_LEVEL: 'silent',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (d: Buffer) => {
    output += d.toString();
  };
  p.stdout?.on('data', collect);
  p.stderr?.on('data', collect);
  const exited = new Promise<number | null>((resolve) => p.once('exit', (code) => resolve(code)));
  return { process: p, output: () => output, exited };
}

/** A transaction of the test's own that holds order_products in exclusive mode; see holdOrderLines. */
export type OrderLinesHold = {
  /** Ends the holding transaction (by closing its client); a second call does nothing. */
  release(): Promise<void>;
};

/**
 * Holds order_products in exclusive mode on a client of its own, so that a worker's attempt stops
 * inside its transaction (order and contact written, waiting on the lock) until `release()`. Call
 * `release()` in a `finally` too: it is idempotent. It closes the client rather than rolling back, so
 * it also lets go after the database ended the hold's session (an outage), where a ROLLBACK on the
 * dead connection would never answer.
 */
export async function holdOrderLines(db: TestDatabase): Promise<OrderLinesHold> {
  const client = createSql(db.url, { max: 1, applicationName: 'crm-test-hold' });
  let held = true;
  const release = async () => {
    if (!held) return;
    held = false;
    await client.end({ timeout: 0 });
  };
  try {
    const conn = await client.reserve();
    await conn`begin`;
    await conn`lock table order_products in exclusive mode`;
  } catch (err) {
    await release();
    throw err;
  }
  return { release };
}

/**
 * Waits until a worker holds the event of a webhook id (leased to one of its workers) and is stuck
 * inside its attempt on a lock (the tests hold order_products); returns the worker id that holds it.
 * `worker`: a worker process (`npm run worker`'s entry, pools named `crm-…`), or null for the workers
 * of this process's test app (pools named `crm-test-…`).
 */
export async function waitUntilInsideEvent(
  db: TestDatabase,
  worker: WorkerProcess | null,
  webhookId: string,
): Promise<string> {
  const workerPool = worker ? 'crm-worker%' : 'crm-test-worker%';
  return waitFor(
    async () => {
      if (worker && worker.process.exitCode !== null)
        throw new Error(`worker exited early:\n${worker.output()}`);
      const [row] = await db.sql<{ locked_by: string | null; waiting: boolean }[]>`
        select e.locked_by,
               exists (select 1 from pg_stat_activity a
                       where a.datname = current_database() and a.application_name like ${workerPool}
                         and a.wait_event_type = 'Lock') as waiting
        from webhook_events e where e.external_id = ${webhookId}`;
      return row?.locked_by && row.waiting ? row.locked_by : null;
    },
    { timeoutMs: 45_000, intervalMs: 50, what: 'the worker to be inside the event' },
  );
}

/** Waits until the event of a webhook id is processed; returns how many attempts it took. */
export async function waitUntilProcessed(
  db: TestDatabase,
  webhookId: string,
  timeoutMs = 20_000,
): Promise<number> {
  return waitFor(
    async () => {
      const [row] = await db.sql<{ status: string; attempts: number }[]>`
        select status, attempts from webhook_events where external_id = ${webhookId}`;
      return row?.status === 'processed' ? row.attempts : null;
    },
    { timeoutMs, what: 'the event to be processed' },
  );
}
