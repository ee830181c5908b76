/**
 * The fake's control endpoints, for a test runner in another process (the end-to-end setup), only
 * when started with `control: true`:
 *   GET  /__fake/stats       counters, grant counts and the REST paths asked (there must be none)
 *   POST /__fake/shops       adds a shop ({ domain, name?, ownApps?, scopes? }); one there is kept
 *   POST /__fake/uninstall   { shop, clientId }: the merchant uninstalls that app
 *   POST /__fake/revoke      { shop, clientId }: that app's access ends without a webhook (the
 *                            merchant deleted the Dev Dashboard app, or Shopify revoked it)
 */
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { readBody } from './http-util.ts';
import { addShop, type FakeState } from './state.ts';
import type { Reply } from './types.ts';
import { uninstallApp } from './uninstall.ts';

const shopInput = z.object({
  domain: z.string().min(1),
  name: z.string().optional(),
  scopes: z.array(z.string()).optional(),
  tokens: z.array(z.string()).optional(),
  ownApps: z
    .array(
      z.object({ clientId: z.string(), clientSecret: z.string(), scopes: z.array(z.string()).optional() }),
    )
    .optional(),
});
/** Which app of which shop: for uninstall and revoke. */
const uninstallInput = z.object({ shop: z.string(), clientId: z.string() });

async function json(req: IncomingMessage): Promise<unknown> {
  try {
    return JSON.parse(await readBody(req)) as unknown;
  } catch {
    return null;
  }
}

export async function control(state: FakeState, req: IncomingMessage, path: string): Promise<Reply> {
  const method = req.method ?? 'GET';
  if (path === '/__fake/stats' && method === 'GET') {
    return { status: 200, body: { ...state.stats, restPaths: state.restPaths } };
  }
  if (path === '/__fake/shops' && method === 'POST') {
    const input = shopInput.safeParse(await json(req));
    if (!input.success) return { status: 400, body: { errors: input.error.message } };
    if (state.shops.has(input.data.domain.toLowerCase()))
      return { status: 200, body: { domain: input.data.domain } };
    const shop = addShop(state, input.data);
    return { status: 201, body: { domain: shop.domain } };
  }
  if (path === '/__fake/uninstall' && method === 'POST') {
    const input = uninstallInput.safeParse(await json(req));
    const shop = input.success ? state.shops.get(input.data.shop) : undefined;
    if (!input.success || !shop) return { status: 400, body: { errors: 'unknown shop' } };
    await uninstallApp(state, shop, input.data.clientId);
    return { status: 200, body: { uninstalled: true } };
  }
  if (path === '/__fake/revoke' && method === 'POST') {
    const input = uninstallInput.safeParse(await json(req));
    const shop = input.success ? state.shops.get(input.data.shop) : undefined;
    if (!input.success || !shop) return { status: 400, body: { errors: 'unknown shop' } };
    state.authority.revoke(shop, input.data.clientId);
    return { status: 200, body: { revoked: true } };
  }
  return { status: 404, body: { errors: 'Not Found' } };
}
