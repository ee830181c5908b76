import type { AppDeps } from '../deps.ts';

/** The `reconcile_orders` job: pages through Admin API orders and applies each. STUB — issue #5. */
export async function runReconcileJob(_deps: AppDeps, _payload: unknown): Promise<void> {
  throw new Error('runReconcileJob: not implemented yet');
}
