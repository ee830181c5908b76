/**
 * `npm run fake-shopify` (or `npm start -w @crm/fake-shopify`): the local fake Shopify Admin API with the demo store
 * (demo-store.myshopify.com, token shpat_0000000000_demo_store_token, a few orders from the fixtures).
 * Point the app at it with SHOPIFY_ADMIN_BASE_URL=http://127.0.0.1:<port>/{shop}.
 *
 *   FAKE_SHOPIFY_PORT  port to listen on (default 3999)
 *   FAKE_SHOPIFY_HOST  address to bind (default 127.0.0.1)
 *   FAKE_SHOPIFY_OAUTH_CLIENT_ID, FAKE_SHOPIFY_OAUTH_CLIENT_SECRET
 *                      the operator's distributed app ("Connect with Shopify"): set both to give the
 *                      app the same values as SHOPIFY_API_KEY / SHOPIFY_API_SECRET
 *   FAKE_SHOPIFY_CONTROL=1  serves the /__fake/ control endpoints (stats, add a shop, uninstall)
 */
import { startDemoFakeShopify } from './demo.ts';

const port = Number(process.env.FAKE_SHOPIFY_PORT ?? 3999);
const host = process.env.FAKE_SHOPIFY_HOST ?? '127.0.0.1';
const clientId = process.env.FAKE_SHOPIFY_OAUTH_CLIENT_ID;
const clientSecret = process.env.FAKE_SHOPIFY_OAUTH_CLIENT_SECRET;
const oauthApp = clientId && clientSecret ? { clientId, clientSecret, name: 'CRM Sync' } : undefined;
const fake = await startDemoFakeShopify({
  port,
  host,
  ...(oauthApp ? { oauthApp } : {}),
  control: process.env.FAKE_SHOPIFY_CONTROL === '1',
});
const demo = fake.shop('demo-store.myshopify.com');
process.stdout.write(
  `${JSON.stringify({
    msg: 'fake Shopify Admin API listening',
    url: fake.url,
    SHOPIFY_ADMIN_BASE_URL: fake.baseUrl,
    shop: demo.domain,
    orders: demo.orders.length,
  })}\n`,
);

let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  // A REST request that reached the fake makes close() fail: say so, and exit 1.
  fake.close().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
