/**
 * Every webhook request gets an HTTP answer over a real connection, whatever its body: the fuzz
 * bench once saw no answer for a body starting with a UTF-8 byte order mark and for truncated JSON.
 */
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { signedWebhookHeaders } from '@crm/shopify';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../src/testing/index.ts';
import { webhookRoutes } from '../src/webhooks/route.ts';
import { createWebhookStore } from '../src/webhooks/store.ts';
import { createShop, orderPayload, type Shop } from './webhook-support.ts';

let db: TestDatabase;
let app: TestApp;
let shop: Shop;
let server: ReturnType<typeof serve>;
let url: string;
const agent = new Agent({ keepAlive: true, maxSockets: 8 });

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db);
  shop = await createShop(db);
  const routes = webhookRoutes(app.deps, createWebhookStore(app.deps.sql));
  await new Promise<void>((resolve) => {
    server = serve({ fetch: routes.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/shopify`;
});

afterAll(async () => {
  agent.destroy();
  await new Promise((resolve) => server?.close(resolve));
  await app?.close();
  await db?.drop();
});

function post(body: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

describe('every webhook request is answered', () => {
  it('a body with a byte order mark, truncated JSON: signed, unsigned or wrongly signed, 8 at a time', async () => {
    const order = Buffer.from(orderPayload().text);
    const bodies = [
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), order]),
      ...Array.from({ length: 6 }, (_, i) => order.subarray(0, Math.floor((order.length * (i + 1)) / 7))),
    ];
    const cases = bodies.flatMap((body, i) =>
      ['good', 'none', 'wrong'].map((sig, j) => {
        const headers = signedWebhookHeaders(body, {
          topic: 'orders/create',
          shopDomain: shop.shopDomain,
          webhookId: `ans-${i}-${j}`,
          ...(sig === 'good' ? { secret: shop.secret } : sig === 'wrong' ? { secret: 'wrong' } : {}),
        });
        return { body, headers, expected: sig === 'good' ? [200, 400] : [401] };
      }),
    );
    const statuses = await Promise.all(
      Array.from({ length: 4 }, () => cases)
        .flat()
        .map(async (c) => ({ status: await post(c.body, c.headers), expected: c.expected })),
    );
    for (const { status, expected } of statuses) expect(expected).toContain(status);
  });
});
