/**
 * Replay, for owners (called by the owner API, which has checked the role): an event goes back to
 * `pending` and its processing job is enqueued, in one transaction as `app_worker` for the workspace.
 * Processing is idempotent (one order per Shopify order), so replaying a processed event is harmless.
 */
import { inWorkerTransaction, requeueFailedWebhookEvents, requeueWebhookEvent } from '@crm/db/worker';
import type { AppDeps } from '../deps.ts';

export class WebhookEventNotFoundError extends Error {
  constructor() {
    super('No such webhook event in this workspace.');
    this.name = 'WebhookEventNotFoundError';
  }
}

/** Puts one event of the workspace back to pending and enqueues it. @throws WebhookEventNotFoundError */
export async function replayEvent(
  deps: AppDeps,
  input: { workspaceId: string; eventId: string },
): Promise<void> {
  const found = await inWorkerTransaction(deps.sql, input.workspaceId, (tx) =>
    requeueWebhookEvent(tx, input.eventId),
  );
  if (!found) throw new WebhookEventNotFoundError();
  deps.log.info('webhook event replayed', { workspaceId: input.workspaceId, eventId: input.eventId });
}

/** Replays every failed event of the workspace; returns how many. */
export async function replayFailedEvents(deps: AppDeps, input: { workspaceId: string }): Promise<number> {
  const count = await inWorkerTransaction(deps.sql, input.workspaceId, (tx) =>
    requeueFailedWebhookEvents(tx),
  );
  deps.log.info('failed webhook events replayed', { workspaceId: input.workspaceId, count });
  return count;
}
