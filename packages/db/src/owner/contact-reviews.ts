import type { Queryable } from '../client.ts';

/** The fields of a contact that a review shows and a merge combines. */
type ContactCard = {
  id: string;
  name: string;
  phone: string | null;
  secondaryPhone: string | null;
  email: string | null;
  address: string | null;
  city: string | null;
  department: string | null;
};

export type ReviewContact = ContactCard & {
  createdAt: Date;
  orderCount: number;
};

export type ReviewStatus = 'pending' | 'merged' | 'ignored';

export type ContactReview = {
  id: string;
  status: ReviewStatus;
  reasons: string[];
  score: string | null;
  createdAt: Date;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  order: {
    id: string;
    shopifyOrderName: string | null;
    totalValue: string;
    currency: string | null;
    createdAt: Date;
  } | null;
  contact: ReviewContact | null;
  candidate: ReviewContact | null;
};

const CONTACT_COLUMNS = `c.id, c.name, c.phone, c.secondary_phone as "secondaryPhone", c.email, c.address,
  c.city, c.department, c.created_at as "createdAt",
  (select count(*) from orders o where o.workspace_id = c.workspace_id and o.contact_id = c.id)::int as "orderCount"`;

export async function listContactReviews(
  tx: Queryable,
  input: { workspaceId: string; status: ReviewStatus; limit: number },
): Promise<ContactReview[]> {
  const reviews = await tx<
    {
      id: string;
      status: ReviewStatus;
      reasons: string[];
      score: string | null;
      createdAt: Date;
      resolvedAt: Date | null;
      resolvedBy: string | null;
      orderId: string | null;
      orderName: string | null;
      orderTotal: string | null;
      orderCreatedAt: Date | null;
      orderCurrency: string | null;
      contactId: string | null;
      candidateId: string | null;
    }[]
  >`
    select r.id, r.status, r.reasons, r.score::text as score, r.created_at as "createdAt",
           r.resolved_at as "resolvedAt", r.resolved_by as "resolvedBy",
           o.id as "orderId", o.shopify_order_name as "orderName", o.total_value::text as "orderTotal",
           o.created_at as "orderCreatedAt", o.currency as "orderCurrency",
           r.contact_id as "contactId", r.candidate_contact_id as "candidateId"
    from contact_reviews r
    left join orders o on o.workspace_id = r.workspace_id and o.id = r.order_id
    where r.workspace_id = ${input.workspaceId} and r.status = ${input.status}
    order by r.created_at desc, r.id desc
    limit ${input.limit}`;
  const ids = [
    ...new Set(reviews.flatMap((r) => [r.contactId, r.candidateId]).filter((x): x is string => x !== null)),
  ];
  const contacts =
    ids.length === 0
      ? []
      : await tx<ReviewContact[]>`
          select ${tx.unsafe(CONTACT_COLUMNS)} from contacts c
          where c.workspace_id = ${input.workspaceId} and c.id = any(${ids}::uuid[])`;
  const byId = new Map(contacts.map((c) => [c.id, c]));
  return reviews.map((r) => ({
    id: r.id,
    status: r.status,
    reasons: r.reasons,
    score: r.score,
    createdAt: r.createdAt,
    resolvedAt: r.resolvedAt,
    resolvedBy: r.resolvedBy,
    order:
      r.orderId && r.orderTotal !== null && r.orderCreatedAt
        ? {
            id: r.orderId,
            shopifyOrderName: r.orderName,
            totalValue: r.orderTotal,
            currency: r.orderCurrency,
            createdAt: r.orderCreatedAt,
          }
        : null,
    contact: (r.contactId && byId.get(r.contactId)) || null,
    candidate: (r.candidateId && byId.get(r.candidateId)) || null,
  }));
}

export type ResolveOutcome =
  | { outcome: 'not_found' }
  | { outcome: 'already_resolved'; status: ReviewStatus }
  | { outcome: 'contact_missing' }
  | { outcome: 'merged'; survivorId: string; removedContactId: string | null; ordersMoved: number }
  | { outcome: 'ignored' };

type LockedReview = {
  id: string;
  status: ReviewStatus;
  contactId: string | null;
  candidateId: string | null;
};

async function lockReview(
  tx: Queryable,
  workspaceId: string,
  reviewId: string,
): Promise<LockedReview | null> {
  const [row] = await tx<LockedReview[]>`
    select id, status, contact_id as "contactId", candidate_contact_id as "candidateId"
    from contact_reviews where workspace_id = ${workspaceId} and id = ${reviewId}
    for update`;
  return row ?? null;
}

export async function ignoreContactReview(
  tx: Queryable,
  input: { workspaceId: string; reviewId: string; userId: string },
): Promise<ResolveOutcome> {
  const review = await lockReview(tx, input.workspaceId, input.reviewId);
  if (!review) return { outcome: 'not_found' };
  if (review.status !== 'pending') return { outcome: 'already_resolved', status: review.status };
  await tx`
    update contact_reviews set status = 'ignored', resolved_by = ${input.userId}, resolved_at = now()
    where id = ${review.id}`;
  return { outcome: 'ignored' };
}

type MergeContact = ContactCard & { shopifyCustomerId: string | null };

/**
 * Merges the review's contact (the likely duplicate) into its candidate (the existing contact): the
 * duplicate's orders move to the candidate, fields the candidate lacks are copied, the duplicate is
 * deleted. The duplicate's phone is cleared first so the per-workspace unique phone never sees two
 * rows with one number. Other reviews that pointed at the duplicate now point at the survivor.
 */
export async function mergeContactReview(
  tx: Queryable,
  input: { workspaceId: string; reviewId: string; userId: string },
): Promise<ResolveOutcome> {
  const ws = input.workspaceId;
  const review = await lockReview(tx, ws, input.reviewId);
  if (!review) return { outcome: 'not_found' };
  if (review.status !== 'pending') return { outcome: 'already_resolved', status: review.status };
  if (!review.contactId || !review.candidateId) return { outcome: 'contact_missing' };
  const dupId = review.contactId;
  const survivorId = review.candidateId;

  let ordersMoved = 0;
  let removed: string | null = null;
  if (dupId !== survivorId) {
    const locked = await tx<MergeContact[]>`
      select id, name, phone, secondary_phone as "secondaryPhone", email, address, city, department,
             shopify_customer_id as "shopifyCustomerId"
      from contacts where workspace_id = ${ws} and id in (${dupId}, ${survivorId})
      order by id for update`;
    const dup = locked.find((c) => c.id === dupId);
    const survivor = locked.find((c) => c.id === survivorId);
    if (!dup || !survivor) return { outcome: 'contact_missing' };

    const moved = await tx`
      update orders set contact_id = ${survivorId}, updated_at = now()
      where workspace_id = ${ws} and contact_id = ${dupId}
      returning id`;
    ordersMoved = moved.length;

    // Free the duplicate's phone before the survivor may take it.
    await tx`update contacts set phone = null, updated_at = now() where id = ${dupId}`;
    const phone = survivor.phone ?? dup.phone;
    const secondary =
      survivor.secondaryPhone ??
      (dup.phone && dup.phone !== phone ? dup.phone : null) ??
      (dup.secondaryPhone && dup.secondaryPhone !== phone ? dup.secondaryPhone : null);
    await tx`
      update contacts set
        name = ${survivor.name.trim() !== '' ? survivor.name : dup.name},
        phone = ${phone},
        secondary_phone = ${secondary},
        email = ${survivor.email ?? dup.email},
        address = ${survivor.address ?? dup.address},
        city = ${survivor.city ?? dup.city},
        department = ${survivor.department ?? dup.department},
        shopify_customer_id = ${survivor.shopifyCustomerId ?? dup.shopifyCustomerId},
        updated_at = now()
      where id = ${survivorId}`;

    await tx`
      update contact_reviews set contact_id = ${survivorId}
      where workspace_id = ${ws} and contact_id = ${dupId} and id <> ${review.id}`;
    await tx`
      update contact_reviews set candidate_contact_id = ${survivorId}
      where workspace_id = ${ws} and candidate_contact_id = ${dupId} and id <> ${review.id}`;
    // Reviews that now compare the survivor with itself are settled by this merge.
    await tx`
      update contact_reviews set status = 'merged', resolved_by = ${input.userId}, resolved_at = now()
      where workspace_id = ${ws} and status = 'pending' and id <> ${review.id}
        and contact_id = ${survivorId} and candidate_contact_id = ${survivorId}`;
    await tx`delete from contacts where workspace_id = ${ws} and id = ${dupId}`;
    removed = dupId;
  }
  await tx`
    update contact_reviews
    set status = 'merged', resolved_by = ${input.userId}, resolved_at = now(),
        contact_id = ${survivorId}
    where id = ${review.id}`;
  return { outcome: 'merged', survivorId, removedContactId: removed, ordersMoved };
}
