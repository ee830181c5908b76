import {
  getReconcileRun,
  getShopifyIntegration,
  listReconcileRuns,
  RECONCILE_RUN_STATUSES,
  type ReconcileRun,
} from '@crm/db/owner';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { startReconcile } from '../../reconcile/start.ts';
import { iso, isoDate, isoOrNull } from '../schemas.ts';
import { ownerActionProcedure, router, workspaceProcedure } from '../trpc.ts';

export const reconcileRunSchema = z.object({
  id: z.uuid(),
  since: isoDate,
  status: z.enum(RECONCILE_RUN_STATUSES),
  pages: z.number().int(),
  ordersSeen: z.number().int(),
  ordersCreated: z.number().int(),
  ordersUpdated: z.number().int(),
  error: z.string().nullable(),
  requestedBy: z.uuid().nullable(),
  createdAt: isoDate,
  startedAt: isoDate.nullable(),
  finishedAt: isoDate.nullable(),
  done: z.boolean(),
});

function runView(r: ReconcileRun): z.infer<typeof reconcileRunSchema> {
  return {
    id: r.id,
    since: iso(r.since),
    status: r.status,
    pages: r.pages,
    ordersSeen: r.ordersSeen,
    ordersCreated: r.ordersCreated,
    ordersUpdated: r.ordersUpdated,
    error: r.error,
    requestedBy: r.requestedBy,
    createdAt: iso(r.createdAt),
    startedAt: isoOrNull(r.startedAt),
    finishedAt: isoOrNull(r.finishedAt),
    done: r.status === 'succeeded' || r.status === 'failed',
  };
}

export const reconcileRouter = router({
  /** Starts importing the store's orders updated since a date (owner); returns the run to poll. */
  start: ownerActionProcedure
    .meta({ ownerOnly: 'Only the workspace owner can start a reconcile run.' })
    .input(z.object({ since: z.union([z.iso.datetime({ offset: true }), z.iso.date()]) }))
    .output(z.object({ runId: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      const since = new Date(input.since);
      if (Number.isNaN(since.getTime()) || since.getTime() > Date.now()) {
        throw new TRPCError({
          code: 'BAD_REQUEST',
          message: 'Choose a start date that is not in the future.',
        });
      }
      const integration = await ctx.db((tx) => getShopifyIntegration(tx, ctx.workspaceId));
      if (!integration) {
        throw new TRPCError({ code: 'NOT_FOUND', message: 'This workspace has no Shopify integration yet.' });
      }
      if (!integration.accessTokenEnc) {
        throw new TRPCError({
          code: 'PRECONDITION_FAILED',
          message: 'Save an Admin API access token first.',
        });
      }
      const runId = await startReconcile(ctx.deps, {
        workspaceId: ctx.workspaceId,
        integrationId: integration.id,
        since,
        requestedBy: ctx.userId,
      });
      return { runId };
    }),

  /** Progress of one run. */
  status: workspaceProcedure
    .input(z.object({ runId: z.uuid() }))
    .output(reconcileRunSchema)
    .query(async ({ ctx, input }) => {
      const run = await getReconcileRun(ctx.tx, ctx.workspaceId, input.runId);
      if (!run) throw new TRPCError({ code: 'NOT_FOUND', message: 'Reconcile run not found.' });
      return runView(run);
    }),

  /** Recent runs, newest first. */
  list: workspaceProcedure
    .input(z.object({ limit: z.number().int().min(1).max(50).default(10) }))
    .output(z.array(reconcileRunSchema))
    .query(async ({ ctx, input }) =>
      (await listReconcileRuns(ctx.tx, ctx.workspaceId, input.limit)).map(runView),
    ),
});
