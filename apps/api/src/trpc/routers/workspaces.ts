import { withUser } from '@crm/db';
import { listMyWorkspaces } from '@crm/db/owner';
import { z } from 'zod';
import { roleSchema } from '../schemas.ts';
import { authedProcedure, router } from '../trpc.ts';

export const workspacesRouter = router({
  /** The workspaces of the signed-in user, with their role in each (for the switcher). */
  list: authedProcedure
    .output(z.array(z.object({ id: z.uuid(), name: z.string(), slug: z.string(), role: roleSchema })))
    .query(({ ctx }) => withUser(ctx.deps.sql, ctx.userId, (tx) => listMyWorkspaces(tx, ctx.userId))),
});
