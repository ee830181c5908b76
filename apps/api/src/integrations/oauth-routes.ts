/**
 * GET /shopify/oauth/callback: Shopify's redirect after the merchant approved (or cancelled) on the
 * grant screen. It answers with a redirect to the integration page, saying what happened; tokens
 * never appear in it.
 *
 * GET /shopify/install: the app URL (set it in the Dev Dashboard), which Shopify opens when an
 * install starts on its side. A signed request goes on to the SPA's /install screen (sign in, pick a
 * workspace you own, then Shopify's grant screen); anything else is refused with the reason.
 */
import { withAuth } from '@crm/db';
import { touchSession } from '@crm/db/owner';
import { Hono } from 'hono';
import {
  hashSessionToken,
  readSessionToken,
  SESSION_TOUCH_AFTER_SECONDS,
  SESSION_TTL_SECONDS,
} from '../auth/session.ts';
import type { AppDeps } from '../deps.ts';
import { checkInstallRequest, completeShopifyConnect } from './oauth.ts';

export function shopifyOAuthRoutes(deps: AppDeps): Hono {
  const app = new Hono();
  app.get('/shopify/oauth/callback', async (c) => {
    const query = new URL(c.req.url).searchParams;
    const token = readSessionToken(c.req.header('cookie') ?? null);
    const session = token
      ? await withAuth(deps.sql, (tx) =>
          touchSession(tx, {
            tokenHash: hashSessionToken(token),
            ttlSeconds: SESSION_TTL_SECONDS,
            touchAfterSeconds: SESSION_TOUCH_AFTER_SECONDS,
          }),
        )
      : null;
    const outcome = await completeShopifyConnect(
      deps,
      query,
      session && token ? { userId: session.userId, sessionToken: token } : null,
    );
    const base = deps.config.publicUrl;
    if (outcome.ok) {
      deps.log.info('shopify connected', { workspaceId: outcome.workspaceId, shop: query.get('shop') });
      return c.redirect(`${base}/w/${outcome.workspaceId}/integration?connected=1`, 302);
    }
    deps.log.warn('shopify connect refused', { reason: outcome.reason, shop: query.get('shop') });
    // The integration page of the remembered workspace says why (a known section keeps its query).
    return c.redirect(`${base}/integration?shopify_connect_error=${outcome.reason}`, 302);
  });
  app.get('/shopify/install', (c) => {
    const query = new URL(c.req.url).searchParams;
    const outcome = checkInstallRequest(deps, query);
    const base = deps.config.publicUrl;
    if (!outcome.ok) {
      deps.log.warn('shopify install refused', { reason: outcome.reason, shop: query.get('shop') });
      return c.redirect(`${base}/install?error=${outcome.reason}`, 302);
    }
    return c.redirect(`${base}/install?${new URLSearchParams({ shop: outcome.shop })}`, 302);
  });
  return app;
}
