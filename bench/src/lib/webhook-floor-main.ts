/**
 * Child process for the ingest bench's Node floor: the real webhook route with an in-memory store
 * (see @crm/api/testing serveWebhookRouteWithoutDatabase). PORT, FLOOR_SHOP_DOMAIN, FLOOR_SECRET.
 */
import { serveWebhookRouteWithoutDatabase } from '@crm/api/testing';

const server = serveWebhookRouteWithoutDatabase({
  port: Number(process.env.PORT),
  shopDomain: process.env.FLOOR_SHOP_DOMAIN ?? 'demo-store.myshopify.com',
  secret: process.env.FLOOR_SECRET ?? 'demo-webhook-secret',
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
