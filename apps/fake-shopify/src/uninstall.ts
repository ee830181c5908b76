/** The merchant uninstalls an app: its tokens stop working, and `app/uninstalled` goes to its subscription. */
import { randomUUID } from 'node:crypto';
import { signShopifyWebhook } from '@crm/shopify';
import type { FakeState } from './state.ts';
import type { FakeShop } from './types.ts';

export async function uninstallApp(state: FakeState, shop: FakeShop, clientId: string): Promise<void> {
  const secret = shop.ownApps.get(clientId)?.clientSecret ?? state.options.oauthApp?.clientSecret ?? null;
  state.authority.revoke(shop, clientId);
  const sub = [...shop.webhooks.values()].find((w) => w.topic === 'app/uninstalled');
  if (!sub || !secret) return;
  const body = JSON.stringify({
    id: 548_380_009,
    name: shop.name,
    domain: shop.domain,
    myshopify_domain: shop.domain,
  });
  await fetch(sub.address, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': 'app/uninstalled',
      'x-shopify-hmac-sha256': signShopifyWebhook(body, secret),
      'x-shopify-shop-domain': shop.domain,
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-event-id': randomUUID(),
      'x-shopify-triggered-at': new Date().toISOString(),
      'x-shopify-api-version': sub.api_version,
    },
    body,
  });
}
