import {
  type ContactReview,
  ignoreContactReview,
  listContactReviews,
  mergeContactReview,
  type ResolveOutcome,
  type ReviewContact,
} from '@crm/db/owner';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { iso, isoDate, isoOrNull, okSchema } from '../schemas.ts';
import { router, workspaceProcedure } from '../trpc.ts';

const reviewStatusSchema = z.enum(['pending', 'merged', 'ignored']);

export const reviewContactSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  phone: z.string().nullable(),
  secondaryPhone: z.string().nullable(),
  email: z.string().nullable(),
  address: z.string().nullable(),
  city: z.string().nullable(),
  department: z.string().nullable(),
  createdAt: isoDate,
  orderCount: z.number().int(),
});

export const contactReviewSchema = z.object({
  id: z.uuid(),
  status: reviewStatusSchema,
  reasons: z.array(z.string()),
  score: z.string().nullable(),
  createdAt: isoDate,
  resolvedAt: isoDate.nullable(),
  resolvedBy: z.uuid().nullable(),
  order: z
    .object({
      id: z.uuid(),
      shopifyOrderName: z.string().nullable(),
      totalValue: z.string(),
      /** The shop's currency of the total (null for an order without one). */
      currency: z.string().nullable(),
      createdAt: isoDate,
    })
    .nullable(),
  /** The contact the order was linked to (usually just created): the likely duplicate. */
  contact: reviewContactSchema.nullable(),
  /** The existing contact it may duplicate: the one that stays on merge. */
  candidate: reviewContactSchema.nullable(),
});

function contactView(c: ReviewContact | null): z.infer<typeof reviewContactSchema> | null {
  return c ? { ...c, createdAt: iso(c.createdAt) } : null;
}

function reviewView(r: ContactReview): z.infer<typeof contactReviewSchema> {
  return {
    id: r.id,
    status: r.status,
    reasons: r.reasons,
    score: r.score,
    createdAt: iso(r.createdAt),
    resolvedAt: isoOrNull(r.resolvedAt),
    resolvedBy: r.resolvedBy,
    order: r.order ? { ...r.order, createdAt: iso(r.order.createdAt) } : null,
    contact: contactView(r.contact),
    candidate: contactView(r.candidate),
  };
}

function refuse(outcome: ResolveOutcome): never {
  switch (outcome.outcome) {
    case 'not_found':
      throw new TRPCError({ code: 'NOT_FOUND', message: 'Contact review not found.' });
    case 'already_resolved':
      throw new TRPCError({ code: 'CONFLICT', message: `This review was already ${outcome.status}.` });
    case 'contact_missing':
      throw new TRPCError({
        code: 'CONFLICT',
        message:
          'One of the two contacts no longer exists, so there is nothing to merge; ignore this review.',
      });
    default:
      throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR' });
  }
}

export const contactReviewsRouter = router({
  /** Reviews by status (default pending), newest first, each with both contacts side by side. */
  list: workspaceProcedure
    .input(
      z.object({
        status: reviewStatusSchema.default('pending'),
        limit: z.number().int().min(1).max(200).default(50),
      }),
    )
    .output(z.array(contactReviewSchema))
    .query(async ({ ctx, input }) =>
      (
        await listContactReviews(ctx.tx, {
          workspaceId: ctx.workspaceId,
          status: input.status,
          limit: input.limit,
        })
      ).map(reviewView),
    ),

  /**
   * Merges the duplicate into the candidate: its orders move to the candidate, missing fields are
   * copied, the duplicate is deleted (its phone freed first, so the unique phone holds).
   */
  merge: workspaceProcedure
    .input(z.object({ reviewId: z.uuid() }))
    .output(
      z.object({
        survivorId: z.uuid(),
        removedContactId: z.uuid().nullable(),
        ordersMoved: z.number().int(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const outcome = await mergeContactReview(ctx.tx, {
        workspaceId: ctx.workspaceId,
        reviewId: input.reviewId,
        userId: ctx.userId,
      });
      if (outcome.outcome !== 'merged') refuse(outcome);
      return {
        survivorId: outcome.survivorId,
        removedContactId: outcome.removedContactId,
        ordersMoved: outcome.ordersMoved,
      };
    }),

  /** Keeps both contacts and closes the review. */
  ignore: workspaceProcedure
    .input(z.object({ reviewId: z.uuid() }))
    .output(okSchema)
    .mutation(async ({ ctx, input }) => {
      const outcome = await ignoreContactReview(ctx.tx, {
        workspaceId: ctx.workspaceId,
        reviewId: input.reviewId,
        userId: ctx.userId,
      });
      if (outcome.outcome !== 'ignored') refuse(outcome);
      return { ok: true as const };
    }),
});
