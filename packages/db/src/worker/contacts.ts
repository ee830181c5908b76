import type { Queryable as Tx } from '../client.ts';

export type ContactFields = {
  name: string;
  /** E.164 */
  phone: string | null;
  email: string | null;
  address: string | null;
  city: string | null;
  department: string | null;
  /** E.164 */
  secondaryPhone: string | null;
  shopifyCustomerId: string | null;
};

export type ContactRow = {
  id: string;
  name: string;
  phone: string | null;
  email: string | null;
  city: string | null;
  department: string | null;
};

const CONTACT_COLUMNS = 'id, name, phone, email, city, department';

/** Exact phone (E.164) match in the current workspace (unique index). */
export async function findContactByPhone(tx: Tx, phone: string): Promise<ContactRow | null> {
  const [row] = await tx<ContactRow[]>`
    select ${tx.unsafe(CONTACT_COLUMNS)} from contacts
    where workspace_id = app.current_workspace_id() and phone = ${phone}`;
  return row ?? null;
}

/** Case-insensitive exact email match (index on lower(email)); the oldest when several share it. */
export async function findContactByEmail(tx: Tx, email: string): Promise<ContactRow | null> {
  const [row] = await tx<ContactRow[]>`
    select ${tx.unsafe(CONTACT_COLUMNS)} from contacts
    where workspace_id = app.current_workspace_id() and email is not null and lower(email) = lower(${email})
    order by created_at, id
    limit 1`;
  return row ?? null;
}

export type ContactCandidateRow = ContactRow & { similarity: number };

/**
 * Possible duplicates of a name, found through the indexes: the double-metaphone keys (GIN on
 * name_phonetic) or trigram similarity of the accent- and case-folded name (GIN trigram on
 * name_norm, at `similarityThreshold`, pg_trgm's `%`). Never a scan of the workspace's contacts into
 * memory: at most `limit` rows, the most similar first. Scoring (name, city, phone digits) is the
 * caller's.
 */
export async function findContactCandidatesByName(
  tx: Tx,
  name: string,
  options: { limit?: number; similarityThreshold?: number } = {},
): Promise<ContactCandidateRow[]> {
  const limit = options.limit ?? 25;
  if (options.similarityThreshold !== undefined) {
    // Transaction-local: the `%` operator (and so the index scan) uses this cut-off.
    await tx`select set_config('pg_trgm.similarity_threshold', ${String(options.similarityThreshold)}, true)`;
  }
  const rows = await tx<(ContactRow & { similarity: string | number })[]>`
    select ${tx.unsafe(CONTACT_COLUMNS)},
           similarity(name_norm, app.crm_normalize(${name})) as similarity
    from contacts
    where workspace_id = app.current_workspace_id()
      and (name_phonetic && app.crm_phonetic_keys(${name}) or name_norm % app.crm_normalize(${name}))
    order by similarity desc, created_at, id
    limit ${limit}`;
  return rows.map((r) => ({ ...r, similarity: Number(r.similarity) }));
}

/**
 * Creates a contact with a phone, or finds the one that holds that phone already: two transactions
 * creating the same customer at once both end on one row (the unique (workspace, phone) index makes
 * the second wait for the first, then do nothing and read it).
 */
export async function insertContactWithPhone(
  tx: Tx,
  contact: ContactFields & { phone: string },
): Promise<{ id: string; created: boolean }> {
  const [created] = await tx<{ id: string }[]>`
    insert into contacts (workspace_id, name, phone, email, address, city, department, secondary_phone,
                          shopify_customer_id)
    values (app.current_workspace_id(), ${contact.name}, ${contact.phone}, ${contact.email}, ${contact.address},
            ${contact.city}, ${contact.department}, ${contact.secondaryPhone}, ${contact.shopifyCustomerId})
    on conflict (workspace_id, phone) do nothing
    returning id`;
  if (created) return { id: created.id, created: true };
  const existing = await findContactByPhone(tx, contact.phone);
  if (!existing) throw new Error('insertContactWithPhone: the conflicting contact vanished');
  return { id: existing.id, created: false };
}

/**
 * Creates a contact without a phone. With an email, under a transaction-scoped advisory lock on
 * (workspace, email), it first looks again for a contact with that email, so two transactions
 * creating the same customer at once end on one row.
 */
export async function insertContactWithoutPhone(
  tx: Tx,
  contact: ContactFields,
): Promise<{ id: string; created: boolean }> {
  if (contact.email) {
    await tx`
      select pg_advisory_xact_lock(
        hashtextextended('contact_email:' || app.current_workspace_id()::text || ':' || lower(${contact.email}), 0))`;
    const existing = await findContactByEmail(tx, contact.email);
    if (existing) return { id: existing.id, created: false };
  }
  const [row] = await tx<{ id: string }[]>`
    insert into contacts (workspace_id, name, phone, email, address, city, department, secondary_phone,
                          shopify_customer_id)
    values (app.current_workspace_id(), ${contact.name}, null, ${contact.email}, ${contact.address},
            ${contact.city}, ${contact.department}, ${contact.secondaryPhone}, ${contact.shopifyCustomerId})
    returning id`;
  if (!row) throw new Error('insertContactWithoutPhone: no row returned');
  return { id: row.id, created: true };
}

/**
 * Completes a linked contact with what the order knows and the contact lacks; never overwrites what a
 * person entered. The secondary phone is kept only when it differs from the contact's phone.
 */
export async function fillContactBlanks(tx: Tx, contactId: string, contact: ContactFields): Promise<void> {
  await tx`
    update contacts set
      name = case when btrim(name) = '' then ${contact.name} else name end,
      email = coalesce(email, ${contact.email}),
      address = coalesce(address, ${contact.address}),
      city = coalesce(city, ${contact.city}),
      department = coalesce(department, ${contact.department}),
      secondary_phone = coalesce(
        secondary_phone,
        case when ${contact.secondaryPhone}::text is distinct from phone then ${contact.secondaryPhone}::text end),
      shopify_customer_id = coalesce(shopify_customer_id, ${contact.shopifyCustomerId}),
      updated_at = now()
    where id = ${contactId} and workspace_id = app.current_workspace_id()
      and (btrim(name) = ''
        or (email is null and ${contact.email}::text is not null)
        or (address is null and ${contact.address}::text is not null)
        or (city is null and ${contact.city}::text is not null)
        or (department is null and ${contact.department}::text is not null)
        or (secondary_phone is null and ${contact.secondaryPhone}::text is not null)
        or (shopify_customer_id is null and ${contact.shopifyCustomerId}::text is not null))`;
}

/** A possible duplicate for a human to merge or ignore. */
export async function insertContactReview(
  tx: Tx,
  review: {
    orderId: string | null;
    contactId: string | null;
    candidateContactId: string;
    reasons: string[];
    score: number;
  },
): Promise<string> {
  const [row] = await tx<{ id: string }[]>`
    insert into contact_reviews (workspace_id, order_id, contact_id, candidate_contact_id, reasons, score)
    values (app.current_workspace_id(), ${review.orderId}, ${review.contactId}, ${review.candidateContactId},
            ${review.reasons}::text[], ${Math.min(9.9999, Math.max(0, Math.round(review.score * 10_000) / 10_000))})
    returning id`;
  if (!row) throw new Error('insertContactReview: no row returned');
  return row.id;
}
