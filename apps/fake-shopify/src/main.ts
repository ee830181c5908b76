/**
 * `npm run fake-shopify` (or `npm start -w @crm/fake-shopify`): the local fake Shopify Admin API with the demo store
 * (demo-store.myshopify.com, token shpat_0000000000_demo_store_token, a few orders from the fixtures).
 * Point the app at it with SHOPIFY_ADMIN_BASE_URL=http://127.0.0.1:<port>/{shop}.
 *
 *   FAKE_SHOPIFY_PORT  port to listen on (default 3999)
 *   FAKE_SHOPIFY_HOST  address to bind (default 127.0.0.1)
 */
import { startDemoFakeShopify } from './demo.ts';

const port = Number(process.env.FAKE_SHOPIFY_PORT ?? 3999);
const host = process.env.FAKE_SHOPIFY_HOST ?? '127.0.0.1';
const fake = await startDemoFakeShopify({ port, host });
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
  void fake.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
