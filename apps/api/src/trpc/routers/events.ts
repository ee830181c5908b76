import { WEBHOOK_EVENT_STATUSES } from '@crm/db';
import { eventStats, getEvent, listEvents, listEventTopics } from '@crm/db/owner';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { replayEvent, replayFailedEvents, WebhookEventNotFoundError } from '../../jobs/replay.ts';
import { cursorSchema, decodeCursor, encodeCursor, iso, isoDate, isoOrNull } from '../schemas.ts';
import { ownerActionProcedure, router, workspaceProcedure } from '../trpc.ts';

const statusSchema = z.enum(WEBHOOK_EVENT_STATUSES);
const countsSchema = z.object({
  received: z.number().int(),
  processed: z.number().int(),
  failed: z.number().int(),
  pending: z.number().int(),
  ignored: z.number().int(),
});

export const eventSummarySchema = z.object({
  id: z.uuid(),
  externalId: z.string(),
  eventId: z.string().nullable(),
  topic: z.string(),
  shopDomain: z.string(),
  status: statusSchema,
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  /** What processing did, for the owner (an order there already, an older update, a redaction). */
  note: z.string().nullable(),
  shopifyOrderId: z.string().nullable(),
  orderId: z.uuid().nullable(),
  receivedAt: isoDate,
  processedAt: isoDate.nullable(),
});

type SummaryRow = {
  id: string;
  externalId: string;
  eventId: string | null;
  topic: string;
  shopDomain: string;
  status: z.infer<typeof statusSchema>;
  attempts: number;
  lastError: string | null;
  note: string | null;
  shopifyOrderId: string | null;
  orderId: string | null;
  receivedAt: Date;
  processedAt: Date | null;
};

function summary(e: SummaryRow): z.infer<typeof eventSummarySchema> {
  return {
    id: e.id,
    externalId: e.externalId,
    eventId: e.eventId,
    topic: e.topic,
    shopDomain: e.shopDomain,
    status: e.status,
    attempts: e.attempts,
    lastError: e.lastError,
    note: e.note,
    shopifyOrderId: e.shopifyOrderId,
    orderId: e.orderId,
    receivedAt: iso(e.receivedAt),
    processedAt: isoOrNull(e.processedAt),
  };
}

const REPLAY_OWNER_ONLY = 'Only the workspace owner can replay events.';

export const eventsRouter = router({
  /** Counts by status today (since `todayStart`, default midnight UTC) and overall, and the last sync. */
  stats: workspaceProcedure
    .input(z.object({ todayStart: z.iso.datetime({ offset: true }).optional() }))
    .output(z.object({ today: countsSchema, overall: countsSchema, lastSyncAt: isoDate.nullable() }))
    .query(async ({ ctx, input }) => {
      const s = await eventStats(ctx.tx, {
        workspaceId: ctx.workspaceId,
        todayStart: input.todayStart ? new Date(input.todayStart) : null,
      });
      return { today: s.today, overall: s.overall, lastSyncAt: isoOrNull(s.lastSyncAt) };
    }),

  /** Newest first, filtered by status, topic and received date range [from, to); cursor-paginated. */
  list: workspaceProcedure
    .input(
      z.object({
        status: statusSchema.optional(),
        topic: z.string().max(100).optional(),
        from: z.iso.datetime({ offset: true }).optional(),
        to: z.iso.datetime({ offset: true }).optional(),
        cursor: cursorSchema.nullish(),
        limit: z.number().int().min(1).max(100).default(25),
      }),
    )
    .output(
      z.object({
        items: z.array(eventSummarySchema),
        nextCursor: z.string().nullable(),
        topics: z.array(z.string()),
      }),
    )
    .query(async ({ ctx, input }) => {
      const after = input.cursor ? decodeCursor(input.cursor) : null;
      if (input.cursor && !after) throw new TRPCError({ code: 'BAD_REQUEST', message: 'Invalid cursor.' });
      const rows = await listEvents(ctx.tx, {
        workspaceId: ctx.workspaceId,
        status: input.status,
        topic: input.topic,
        from: input.from ? new Date(input.from) : undefined,
        to: input.to ? new Date(input.to) : undefined,
        after: after ? { receivedAt: after.ts, id: after.id } : undefined,
        limit: input.limit + 1,
      });
      const page = rows.slice(0, input.limit);
      const last = page[page.length - 1];
      return {
        items: page.map(summary),
        nextCursor: rows.length > input.limit && last ? encodeCursor(last.cursorTs, last.id) : null,
        topics: await listEventTopics(ctx.tx, ctx.workspaceId),
      };
    }),

  /** One event with its raw payload and last error. */
  detail: workspaceProcedure
    .input(z.object({ eventId: z.uuid() }))
    .output(
      eventSummarySchema.extend({
        apiVersion: z.string().nullable(),
        triggeredAt: isoDate.nullable(),
        payload: z.string(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const e = await getEvent(ctx.tx, ctx.workspaceId, input.eventId);
      if (!e) throw new TRPCError({ code: 'NOT_FOUND', message: 'Event not found.' });
      return {
        ...summary(e),
        apiVersion: e.apiVersion,
        triggeredAt: isoOrNull(e.triggeredAt),
        payload: e.payload,
      };
    }),

  /** Puts one event back in the queue (owner). */
  replay: ownerActionProcedure
    .meta({ ownerOnly: REPLAY_OWNER_ONLY })
    .input(z.object({ eventId: z.uuid() }))
    .output(z.object({ ok: z.literal(true) }))
    .mutation(async ({ ctx, input }) => {
      const e = await ctx.db((tx) => getEvent(tx, ctx.workspaceId, input.eventId));
      if (!e) throw new TRPCError({ code: 'NOT_FOUND', message: 'Event not found.' });
      try {
        await replayEvent(ctx.deps, { workspaceId: ctx.workspaceId, eventId: input.eventId });
      } catch (error) {
        if (error instanceof WebhookEventNotFoundError) {
          throw new TRPCError({ code: 'NOT_FOUND', message: 'Event not found.' });
        }
        throw error;
      }
      return { ok: true as const };
    }),

  /** Puts every failed event back in the queue (owner); returns how many. */
  replayAllFailed: ownerActionProcedure
    .meta({ ownerOnly: REPLAY_OWNER_ONLY })
    .output(z.object({ count: z.number().int() }))
    .mutation(async ({ ctx }) => ({
      count: await replayFailedEvents(ctx.deps, { workspaceId: ctx.workspaceId }),
    })),
});
