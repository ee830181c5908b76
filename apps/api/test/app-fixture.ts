/**
 * The setup test files of the webhook route share: a migrated test database, the app on a free port
 * and one shop (owner, workspace, active integration); with `route`, the webhook route alone on its
 * own port with its own bounds on uploads. Call it at the top of a test file: it registers the
 * beforeAll that builds all this and the afterAll that tears it down; read the fields inside tests.
 */
import type { AddressInfo } from 'node:net';
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll } from 'vitest';
import { startTestApp, type TestApp } from '../src/testing/index.ts';
import { webhookRoutes } from '../src/webhooks/route.ts';
import { createWebhookStore } from '../src/webhooks/store.ts';
import type { UploadGate } from '../src/webhooks/uploads.ts';
import { createShop, type Shop } from './webhook-support.ts';

export type WebhookRouteFixture = {
  db: TestDatabase;
  app: TestApp;
  shop: Shop;
  /** The webhook route's own server (with `route`), else the app's. */
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
};

export function useWebhookRouteFixture(
  options: { route?: { uploads?: UploadGate } } = {},
): WebhookRouteFixture {
  const fixture = {} as WebhookRouteFixture;
  let server: ReturnType<typeof serve> | undefined;
  beforeAll(async () => {
    fixture.db = await createTestDatabase();
    fixture.app = await startTestApp(fixture.db);
    fixture.shop = await createShop(fixture.db);
    fixture.port = fixture.app.port;
    if (options.route) {
      const routes = webhookRoutes(fixture.app.deps, createWebhookStore(fixture.app.deps.sql), options.route);
      const listening = await new Promise<ReturnType<typeof serve>>((resolve) => {
        const s = serve({ fetch: routes.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
      });
      server = listening;
      fixture.port = (listening.address() as AddressInfo).port;
    }
    fixture.url = `http://127.0.0.1:${fixture.port}`;
  });
  afterAll(async () => {
    // Connections a test left open (stalled uploads) would hold close() open.
    (server as { closeAllConnections?: () => void } | undefined)?.closeAllConnections?.();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await fixture.app?.close();
    await fixture.db?.drop();
  });
  return fixture;
}
