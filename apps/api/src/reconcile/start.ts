import type { AppDeps } from '../deps.ts';

/** Records a reconcile run and enqueues its job; returns the run id. STUB — issue #5. */
export async function startReconcile(
  _deps: AppDeps,
  _input: { workspaceId: string; integrationId: string; since: Date; requestedBy: string },
): Promise<string> {
  throw new Error('startReconcile: not implemented yet');
}
