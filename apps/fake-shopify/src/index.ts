/**
 * @crm/fake-shopify: a local fake of Shopify's Admin API (a real HTTP server) for the tests, the
 * end-to-end runs and the demo. See server.ts for what it speaks.
 */
export { installLink } from './authorize.ts';
export { DEMO_ACCESS_TOKEN, DEMO_SHOP, demoOrders, startDemoFakeShopify } from './demo.ts';
export { orderFromRest, type RestOrderInput, readOrderFixture, variantOfOrder } from './orders-seed.ts';
export {
  DEFAULT_FAKE_SCOPES,
  type FakeRequestLog,
  type FakeShop,
  type FakeShopInput,
  type FakeShopify,
  type FakeShopifyOptions,
  type FakeWebhook,
  startFakeShopify,
} from './server.ts';
