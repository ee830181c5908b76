import { normalizeShopDomain } from '@crm/shopify';
import { TRPCError } from '@trpc/server';

/** The canonical `<shop>.myshopify.com` of what an owner typed, or BAD_REQUEST with the reason. */
export function shopDomainOrThrow(input: string): string {
  const r = normalizeShopDomain(input);
  if (!r.ok) throw new TRPCError({ code: 'BAD_REQUEST', message: r.reason });
  return r.domain;
}
