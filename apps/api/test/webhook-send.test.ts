/**
 * `npm run webhook:send`: signs a payload file with the shop's secret and posts it as Shopify would.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { useWebhookRouteFixture } from './app-fixture.ts';
import { orderPayload } from './webhook-support.ts';

const run = promisify(execFile);
const API_DIR = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = fileURLToPath(
  new URL('../../../../shared/fixtures/shopify/orders-create.cod-co.json', import.meta.url),
);

const t = useWebhookRouteFixture();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'webhook-send-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function send(args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/webhook-send.ts', ...args], {
      cwd: API_DIR,
      env: { ...process.env, INIT_CWD: dir },
    });
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

it('posts a signed payload (path relative to where npm ran, topic from the file name); a wrong secret gets 401', async () => {
  const order = orderPayload();
  await writeFile(join(dir, 'orders-updated.sample.json'), order.text);
  const common = ['--url', `${t.app.url}/webhooks/shopify`, '--shop', t.shop.shopDomain];

  const ok = await send(['orders-updated.sample.json', ...common, '--secret', t.shop.secret]);
  expect(ok.code).toBe(0);
  expect(ok.stdout).toMatch(/^200 OK {2}\(orders\/updated, webhook id [0-9a-f-]{36}\)/);
  expect(ok.stdout).toContain('"status":"accepted"');
  const [event] = await t.db.sql<{ topic: string; payload: string }[]>`
    select topic, payload from webhook_events where workspace_id = ${t.shop.workspaceId}`;
  expect(event).toEqual({ topic: 'orders/updated', payload: order.text });

  // A fresh webhook id every run: the same file again is a new delivery, not a duplicate.
  const again = await send([
    'orders-updated.sample.json',
    ...common,
    '--secret',
    t.shop.secret,
    '--topic',
    'orders/paid',
  ]);
  expect(again.stdout).toContain('"status":"accepted"');

  const bad = await send(['orders-updated.sample.json', ...common, '--secret', 'wrong']);
  expect(bad.code).toBe(1);
  expect(bad.stdout).toMatch(/^401/);
});

it.skipIf(!existsSync(FIXTURE))(
  'sends the shared COD fixture, which becomes an order with every digit of its id',
  async () => {
    const res = await send([
      FIXTURE,
      '--url',
      `${t.app.url}/webhooks/shopify`,
      '--shop',
      t.shop.shopDomain,
      '--secret',
      t.shop.secret,
    ]);
    expect(res.code).toBe(0);
    await t.app.runJobs();
    // The shop also holds the orders of the test above: look for the fixture's own.
    const orders = await t.db.sql<{ shopify_order_id: string; total_value: string }[]>`
    select shopify_order_id, total_value from orders
    where workspace_id = ${t.shop.workspaceId} and shopify_order_id = '6114532901234567891'`;
    expect(orders).toEqual([{ shopify_order_id: '6114532901234567891', total_value: '149900.00' }]);
  },
);
