import { TRPCError } from '@trpc/server';

// TEMPORARY: @crm/shopify's normalizeShopDomain (issue #3) has not landed yet; this mirrors the spec's
// rule and is replaced by it when it does.
function normalize(input: string): { ok: true; domain: string } | { ok: false; message: string } {
  let s = input.trim().toLowerCase();
  if (s === '') return { ok: false, message: 'Enter your shop domain, e.g. mystore.myshopify.com.' };
  s = s.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  s = s.split(/[/?#]/)[0] ?? '';
  s = s.replace(/:\d+$/, '').replace(/\.$/, '');
  const handle = s.endsWith('.myshopify.com') ? s.slice(0, -'.myshopify.com'.length) : s;
  if (!/^[a-z0-9][a-z0-9-]*$/.test(handle)) {
    return {
      ok: false,
      message: `"${input.trim().slice(0, 100)}" is not a Shopify store domain: use the store's myshopify.com domain, e.g. mystore.myshopify.com.`,
    };
  }
  return { ok: true, domain: `${handle}.myshopify.com` };
}

/** The canonical `<shop>.myshopify.com`, or BAD_REQUEST with the reason. */
export function shopDomainOrThrow(input: string): string {
  const r = normalize(input);
  if (!r.ok) throw new TRPCError({ code: 'BAD_REQUEST', message: r.message });
  return r.domain;
}
