import { Hono } from 'hono';
import type { AppDeps } from '../deps.ts';

// Placeholder until the tRPC routers land (issue #5).
export function trpcRoutes(_deps: AppDeps): Hono {
  return new Hono();
}
