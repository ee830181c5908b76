import { listPipelines } from '@crm/db/owner';
import { z } from 'zod';
import { router, workspaceProcedure } from '../trpc.ts';

export const pipelineSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  position: z.number().int(),
  stages: z.array(
    z.object({
      id: z.uuid(),
      name: z.string(),
      position: z.number().int(),
      isClosed: z.boolean(),
      isCancelled: z.boolean(),
    }),
  ),
});

export const pipelinesRouter = router({
  /** The workspace's pipelines, each with its stages in order. */
  list: workspaceProcedure
    .output(z.array(pipelineSchema))
    .query(({ ctx }) => listPipelines(ctx.tx, ctx.workspaceId)),
});
