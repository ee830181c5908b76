/**
 * The contact of an order being created: an existing one with the same phone or email, or a new one
 * (with, when fuzzy matching finds a look-alike, a review for a human). Inside apply-order's transaction.
 */
import {
  type ContactFields,
  type ContactRow,
  fillContactBlanks,
  insertContactWithoutPhone,
  insertContactWithPhone,
  type WorkerTx,
} from '@crm/db/worker';
import type { MappedOrder, ShopifyOrder } from '@crm/shopify';
import type { IntegrationSettings } from '../integration-config.ts';
import { findBestContactCandidate } from './contact-candidate.ts';

export type ResolvedContact = {
  id: string | null;
  /** A possible duplicate for a human: never linked silently. */
  review: { candidateContactId: string; reasons: string[]; score: number } | null;
  /** The linked contact's blanks being filled (sent, not yet answered); null when nothing is pending. */
  pending: Promise<void> | null;
  /** A new contact with a phone, to insert with the order (insertShopifyOrder); `id` is null then. */
  create: (ContactFields & { phone: string }) | null;
};

/** What the order says about its customer, as the contact's fields. */
export function contactOf(mapped: MappedOrder, order: ShopifyOrder): ContactFields {
  const draft = mapped.contact;
  return {
    name: draft.name,
    phone: draft.phone,
    email: draft.email ?? mapped.customerEmail,
    address: draft.address,
    city: draft.city,
    department: draft.department,
    secondaryPhone: draft.secondaryPhone,
    secondaryEmail: draft.secondaryEmail,
    shopifyCustomerId: order.customer?.id ?? null,
  };
}

/**
 * The order's contact, from what the order says of its customer (`fields`, contactOf): `linked` (the contact with the same phone (E.164), else the same email
 * (case-insensitive): findContactByPhoneOrEmail, read by the caller) with its blanks filled; else a
 * new contact, and when fuzzy matching is on and an existing contact looks like the same person (name
 * and city, a phone a digit or two off — found through the database's indexes), a review for a human.
 */
export async function resolveContact(
  tx: WorkerTx,
  integration: IntegrationSettings,
  fields: ContactFields,
  linked: ContactRow | null,
): Promise<ResolvedContact> {
  const { name, phone, email, city } = fields;
  if (linked) {
    return { id: linked.id, review: null, pending: fillContactBlanks(tx, linked.id, fields), create: null };
  }
  if (!name.trim() && !phone && !email) return { id: null, review: null, pending: null, create: null };

  let candidate: ResolvedContact['review'] = null;
  if (integration.fuzzyMatching && name.trim()) {
    const { best } = await findBestContactCandidate(tx, { name, city, phone, email });
    if (best) candidate = { candidateContactId: best.id, reasons: best.reasons, score: best.score };
  }

  // A new customer with a phone is inserted by the order's own statement (one round trip less).
  if (phone) return { id: null, review: candidate, pending: null, create: { ...fields, phone } };
  const created = await insertContactWithoutPhone(tx, fields);
  if (!created.created) {
    // Another transaction created this customer a moment ago (it asked for any review itself).
    await fillContactBlanks(tx, created.id, fields);
    return { id: created.id, review: null, pending: null, create: null };
  }
  return { id: created.id, review: candidate, pending: null, create: null };
}

/**
 * The order's new contact could not be inserted: another transaction holds its phone now (it asked
 * for any review itself). Links to that contact (filling its blanks), or inserts it if it went away.
 */
export async function contactAfterPhoneTaken(
  tx: WorkerTx,
  contact: ContactFields & { phone: string },
  review: ResolvedContact['review'],
): Promise<{ id: string; review: ResolvedContact['review'] }> {
  const found = await insertContactWithPhone(tx, contact);
  if (found.created) return { id: found.id, review };
  await fillContactBlanks(tx, found.id, contact);
  return { id: found.id, review: null };
}
