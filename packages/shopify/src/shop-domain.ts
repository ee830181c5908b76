/**
 * A store's permanent domain, "<handle>.myshopify.com": the only name Shopify sends in
 * X-Shopify-Shop-Domain and the one the Admin API answers on.
 */
const HANDLE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SUFFIX = '.myshopify.com';
const EXAMPLE = 'e.g. mystore.myshopify.com';

export type ShopDomainResult = { ok: true; domain: string } | { ok: false; reason: string };

/**
 * Reads what an owner pastes — "mystore", "MyStore.myshopify.com", "https://mystore.myshopify.com/admin",
 * "https://admin.shopify.com/store/mystore" — as "mystore.myshopify.com", or says why it cannot.
 */
export function normalizeShopDomain(input: string): ShopDomainResult {
  const raw = input.trim();
  if (!raw) return { ok: false, reason: `Enter the store's Shopify domain, ${EXAMPLE}.` };
  if (/[^\x21-\x7e]/.test(raw)) {
    return {
      ok: false,
      reason: `A shop domain has no spaces or accents: use the store's myshopify.com address, ${EXAMPLE}.`,
    };
  }

  let host: string;
  let path = '';
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
    if (url.username || url.password || url.port) throw new Error('extras');
    host = url.hostname.replace(/\.$/, '');
    path = url.pathname;
  } catch {
    return {
      ok: false,
      reason: `"${raw}" is not a shop domain: use the store's myshopify.com address, ${EXAMPLE}.`,
    };
  }

  // The new admin's address names the store in its path: admin.shopify.com/store/<handle>.
  const adminStore = host === 'admin.shopify.com' ? /^\/store\/([^/]+)/.exec(path)?.[1] : undefined;
  const handle =
    adminStore ?? (host.endsWith(SUFFIX) ? host.slice(0, -SUFFIX.length) : host.includes('.') ? null : host);
  if (handle === null) {
    return {
      ok: false,
      reason: `${host} is not a myshopify.com domain. Use the store's permanent address (in Shopify: Settings → Domains), ${EXAMPLE}.`,
    };
  }
  if (!HANDLE.test(handle)) {
    return {
      ok: false,
      reason: `"${handle}" is not a valid store name: only letters, digits and hyphens, ${EXAMPLE}.`,
    };
  }
  return { ok: true, domain: `${handle}${SUFFIX}` };
}
