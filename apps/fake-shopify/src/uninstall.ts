/** The merchant uninstalls an app: its tokens stop working, and `app/uninstalled` goes to its subscription. */
import { signedWebhookHeaders } from '@crm/shopify';
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
    headers: signedWebhookHeaders(body, {
      topic: 'app/uninstalled',
      shopDomain: shop.domain,
      secret,
      apiVersion: sub.api_version,
    }),
    body,
  });
}
