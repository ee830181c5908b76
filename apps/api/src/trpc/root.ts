import { authRouter } from './routers/auth.ts';
import { contactReviewsRouter } from './routers/contact-reviews.ts';
import { eventsRouter } from './routers/events.ts';
import { integrationsRouter } from './routers/integrations.ts';
import { ordersRouter } from './routers/orders.ts';
import { pipelinesRouter } from './routers/pipelines.ts';
import { reconcileRouter } from './routers/reconcile.ts';
import { workspacesRouter } from './routers/workspaces.ts';
import { router } from './trpc.ts';

/**
 * The API of the admin SPA, mounted at /trpc. Every procedure validates its input and its output
 * with zod; every workspace procedure takes `workspaceId` and runs under row-level security.
 */
export const appRouter = router({
  auth: authRouter,
  workspaces: workspacesRouter,
  pipelines: pipelinesRouter,
  integrations: integrationsRouter,
  events: eventsRouter,
  reconcile: reconcileRouter,
  contactReviews: contactReviewsRouter,
  orders: ordersRouter,
});

export type AppRouter = typeof appRouter;
