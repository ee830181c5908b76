/**
 * The contact of an order being created: an existing one with the same phone or email, or a new one
 * (with, when fuzzy matching finds a look-alike, a review for a human). Inside apply-order's transaction.
 */
import {
  type ContactFields,
  fillContactBlanks,
  findContactByEmail,
  findContactByPhone,
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
};

/**
 * The order's contact: same phone (E.164) → linked; same email (case-insensitive) → linked; else a new
 * contact, and when fuzzy matching is on and an existing contact looks like the same person (name
 * and city, a phone a digit or two off — found through the database's indexes), a review for a human.
 */
export async function resolveContact(
  tx: Tx,
  integration: IntegrationSettings,
  mapped: MappedOrder,
  order: ShopifyOrder,
): Promise<ResolvedContact> {
  const draft = mapped.contact;
  const email = draft.email ?? mapped.customerEmail;
  const fields: ContactFields = {
    name: draft.name,
    phone: draft.phone,
    email,
    address: draft.address,
    city: draft.city,
    department: draft.department,
    secondaryPhone: draft.secondaryPhone,
    secondaryEmail: draft.secondaryEmail,
    shopifyCustomerId: order.customer?.id ?? null,
  };

  if (draft.phone) {
    const byPhone = await findContactByPhone(tx, draft.phone);
    if (byPhone) {
      await fillContactBlanks(tx, byPhone.id, fields);
      return { id: byPhone.id, review: null };
    }
  }
  if (email) {
    const byEmail = await findContactByEmail(tx, email);
    if (byEmail) {
      await fillContactBlanks(tx, byEmail.id, fields);
      return { id: byEmail.id, review: null };
    }
  }
  if (!draft.name.trim() && !draft.phone && !email) return { id: null, review: null };

  let candidate: ResolvedContact['review'] = null;
  if (integration.fuzzyMatching && draft.name.trim()) {
    const input = { name: draft.name, city: draft.city, phone: draft.phone, email };
    const { best } = await findBestContactCandidate(tx, input);
    if (best) candidate = { candidateContactId: best.id, reasons: best.reasons, score: best.score };
  }

  const created = draft.phone
    ? await insertContactWithPhone(tx, { ...fields, phone: draft.phone })
    : await insertContactWithoutPhone(tx, fields);
  if (!created.created) {
    // Another transaction created this customer a moment ago (it asked for any review itself).
    await fillContactBlanks(tx, created.id, fields);
    return { id: created.id, review: null };
  }
  return {
    id: created.id,
    review: candidate && candidate.candidateContactId !== created.id ? candidate : null,
  };
}
