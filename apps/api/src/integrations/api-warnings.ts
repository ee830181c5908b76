/**
 * Shopify's API version warnings: logged once per process however often Shopify repeats them, and
 * remembered on the integration for its page (from the connection test, from any Admin API answer
 * of a stored integration, and from the versions of the latest webhook deliveries).
 */
import { recordApiWarning, type Tx } from '@crm/db';
import type { AppDeps } from '../deps.ts';

/** Runs a function in a transaction of the integration's workspace (token-store.ts's RunInTx). */
type RunInTx = <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>;

const loggedWarnings = new Set<string>();

/** An API version warning is logged once per process, however often Shopify repeats it. */
export function logApiWarningOnce(deps: AppDeps, warning: string): void {
  if (loggedWarnings.has(warning)) return;
  loggedWarnings.add(warning);
  deps.log.warn('shopify api version', { warning });
}

/**
 * For a stored integration's token source: a warning in an Admin API answer is logged once and
 * stored on the integration once per source (a reconcile run's many pages write it once).
 */
export function apiWarningReporter(deps: AppDeps, db: RunInTx, integrationId: string) {
  const recorded = new Set<string>();
  return async (warning: string): Promise<void> => {
    logApiWarningOnce(deps, warning);
    if (recorded.has(warning)) return;
    recorded.add(warning);
    await db((tx) => recordApiWarning(tx, integrationId, warning));
  };
}

/** The warning for deliveries in another version than the configured one, or null. */
export function deliveryVersionWarning(configured: string, delivered: string[]): string | null {
  if (delivered.length === 0) return null;
  return `Shopify delivers webhooks in API version ${delivered.join(', ')} while this server asks for ${configured} (SHOPIFY_API_VERSION): register the webhooks again after changing the version, or set SHOPIFY_API_VERSION to a supported version.`;
}
