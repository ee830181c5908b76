import { readFileSync } from 'node:fs';

export type FixtureName =
  | 'orders-create.cod-co.json'
  | 'orders-create.legacy-us.json'
  // Written for issue #21 from the shapes of real payloads (refunds, unallocated discount, currencies):
  | 'orders-updated.partial-refund-us.json'
  | 'orders-updated.full-refund-us.json'
  | 'orders-create.order-discount-aud.json';

/**
 * Copies of ../shared/fixtures/shopify (the repository must not depend on a folder outside it);
 * fixtures.test.ts checks they are still identical when that folder is present.
 */
export function fixtureBytes(name: FixtureName): Uint8Array {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
}

export const SHARED_FIXTURES = new URL('../../../../shared/fixtures/shopify/', import.meta.url);
