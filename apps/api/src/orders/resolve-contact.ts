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
  type WorkerTx as Tx,
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
 * The order's contact: `linked` (the contact with the same phone (E.164), else the same email
 * (case-insensitive): findContactByPhoneOrEmail, read by the caller) with its blanks filled; else a
 * new contact, and when fuzzy matching is on and an existing contact looks like the same person (name
 * and city, a phone a digit or two off — found through the database's indexes), a review for a human.
 */
export async function resolveContact(
  tx: Tx,
  integration: IntegrationSettings,
  mapped: MappedOrder,
  order: ShopifyOrder,
  linked: ContactRow | null,
): Promise<ResolvedContact> {
  const fields = contactOf(mapped, order);
  const { name, phone, email, city } = fields;
  if (linked) return { id: linked.id, review: null, pending: fillContactBlanks(tx, linked.id, fields) };
  if (!name.trim() && !phone && !email) return { id: null, review: null, pending: null };

  let candidate: ResolvedContact['review'] = null;
  if (integration.fuzzyMatching && name.trim()) {
    const { best } = await findBestContactCandidate(tx, { name, city, phone, email });
    if (best) candidate = { candidateContactId: best.id, reasons: best.reasons, score: best.score };
  }

  const created = phone
    ? await insertContactWithPhone(tx, { ...fields, phone })
    : await insertContactWithoutPhone(tx, fields);
  if (!created.created) {
    // Another transaction created this customer a moment ago (it asked for any review itself).
    await fillContactBlanks(tx, created.id, fields);
    return { id: created.id, review: null, pending: null };
  }
  return {
    id: created.id,
    review: candidate && candidate.candidateContactId !== created.id ? candidate : null,
    pending: null,
  };
}
