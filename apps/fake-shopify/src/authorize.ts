/**
 * The fake's grant screen of "Connect with Shopify" (Install / Cancel) and its answer: back to the
 * app's redirect_uri with a code, signed with the app's secret as Shopify signs it.
 */
import { randomBytes } from 'node:crypto';
import { signOAuthQuery } from '@crm/shopify';
import type { FakeOAuthApp, FakeShop, Reply } from './types.ts';

export type CodeRecord = {
  shop: string;
  clientId: string;
  scopes: string[];
  used: boolean;
  expiresAt: number;
};

const esc = (v: string) => v.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** GET /admin/oauth/authorize: the merchant's grant screen, with an Install and a Cancel button. */
export function authorizeScreen(app: FakeOAuthApp | null, shop: FakeShop, query: URLSearchParams): Reply {
  if (!app || query.get('client_id') !== app.clientId) {
    return { status: 400, body: null, html: '<h1>Oauth error invalid_request: unknown client_id</h1>' };
  }
  const hidden = [...query.entries()]
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('');
  const scopes = esc(query.get('scope') ?? '');
  const html = `<!doctype html><title>Install ${esc(app.name ?? 'app')}</title>
<h1>Install ${esc(app.name ?? 'app')} on ${esc(shop.name)}</h1><p>It asks for: ${scopes}</p>
<form method="post" action="authorize/approve">${hidden}<button type="submit">Install</button></form>
<form method="post" action="authorize/deny">${hidden}<button type="submit">Cancel</button></form>`;
  return { status: 200, body: null, html };
}

/** POST /admin/oauth/authorize/approve|deny: back to the app's redirect_uri, signed like Shopify. */
export function decide(
  app: FakeOAuthApp | null,
  codes: Map<string, CodeRecord>,
  shop: FakeShop,
  form: URLSearchParams,
  approve: boolean,
): Reply {
  const redirectUri = form.get('redirect_uri');
  if (!app || form.get('client_id') !== app.clientId || !redirectUri) {
    return { status: 400, body: { errors: 'invalid_request' } };
  }
  const target = new URL(redirectUri);
  if (!approve) {
    target.search = new URLSearchParams({
      error: 'access_denied',
      shop: shop.domain,
      state: form.get('state') ?? '',
    }).toString();
    return { status: 302, body: null, headers: { location: target.toString() } };
  }
  shop.installed.add(app.clientId);
  const scopes = (form.get('scope') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const code = randomBytes(16).toString('hex');
  codes.set(code, {
    shop: shop.domain,
    clientId: app.clientId,
    scopes,
    used: false,
    expiresAt: Date.now() + 60_000,
  });
  const params: [string, string][] = [
    ['code', code],
    ['host', Buffer.from(`admin.shopify.com/store/${shop.domain.split('.')[0]}`).toString('base64url')],
    ['shop', shop.domain],
    ['state', form.get('state') ?? ''],
    ['timestamp', String(Math.floor(Date.now() / 1000))],
  ];
  const query = new URLSearchParams(params);
  query.set('hmac', signOAuthQuery(params, app.clientSecret));
  target.search = query.toString();
  return { status: 302, body: null, headers: { location: target.toString() } };
}

/**
 * The app link Shopify opens when an install starts on Shopify's side (App Store, install link):
 * the app URL with `shop`, `host`, `timestamp` and `hmac` (signed with the app's secret).
 */
export function installLink(
  app: FakeOAuthApp,
  appUrl: string,
  shopDomain: string,
  nowMs = Date.now(),
): string {
  const params: [string, string][] = [
    ['host', Buffer.from(`admin.shopify.com/store/${shopDomain.split('.')[0]}`).toString('base64url')],
    ['shop', shopDomain],
    ['timestamp', String(Math.floor(nowMs / 1000))],
  ];
  const query = new URLSearchParams(params);
  query.set('hmac', signOAuthQuery(params, app.clientSecret));
  const url = new URL(appUrl);
  url.search = query.toString();
  return url.toString();
}
