/**
 * The SQL of the webhook route and the job workers (`@crm/db/worker`). Every function expects a
 * transaction already switched to `app_worker` (withWorkerRouting for routing, withWorkspace or
 * actForWorkspace for everything else) and writes only `app.current_workspace_id()`.
 */

export type { WebhookEventStatus } from '../values.ts';
export {
  CANDIDATE_NAME_SIMILARITY,
  type CandidateScoreWeights,
  type ContactCandidateRow,
  type ContactFields,
  type ContactProbe,
  type ContactRow,
  fillContactBlanks,
  findContactByEmail,
  findContactByPhone,
  findContactByPhoneOrEmail,
  findContactCandidatesByName,
  insertContactWithoutPhone,
  insertContactWithPhone,
} from './contacts.ts';
export {
  type ClaimedIntegration,
  type ClaimedWebhookEvent,
  claimWebhookEvents,
  findIntegrationsByShopDomains,
  finishWebhookEvent,
  insertFailedWebhookEvent,
  listenForWebhookEvents,
  type NewWebhookEvent,
  notifyWebhookEvents,
  type QueuedWebhookEvent,
  type RoutedIntegration,
  recordWebhookEventAttemptFailure,
  releaseWebhookEvents,
  renewWebhookEventLeases,
  requeueFailedWebhookEvents,
  requeueWebhookEvent,
  type StartedWebhookEvent,
  type StoreOutcome,
  startWebhookEventAttempt,
  storeWebhookEvents,
  terminateWorkerBackends,
  type VerifiedWebhookEvent,
  WEBHOOK_EVENTS_CHANNEL,
  webhookEventKey,
} from './events.ts';
export {
  deactivateIntegration,
  loadIntegrationForWorker,
  loadWorkspaceShopifyIntegration,
  touchIntegrationLastSync,
  type WorkerIntegrationRow,
} from './integrations.ts';
export { type PoolSessions, type QueueStats, readPoolSessions, readQueueStats } from './metrics.ts';
export {
  insertShopifyOrder,
  type NewContactReview,
  type NewOrderLine,
  type NewShopifyOrder,
  type OrderPlacement,
  openShopifyOrder,
  type ShopifyOrderMoney,
  type ShopifyOrderUpdate,
  type StoredShopifyOrder,
  syncShopifyOrderLines,
  updateShopifyOrderIfNewer,
} from './orders.ts';
export { findProductsForMatching, type MatchableProduct } from './products.ts';
export {
  beatJobRunner,
  countBusyJobs,
  describeBusyJobs,
  describeDatabaseSessions,
  findSilentJobRunners,
  forceUnlockWorkers,
  type JobRunnerProcess,
  type ReleasedJobRunner,
  releaseSilentJobRunners,
  removeJobRunner,
} from './queue.ts';
export {
  finishReconcileRun,
  type ReconcileProgress,
  saveReconcileProgress,
  startReconcileRun,
} from './reconcile.ts';
export {
  findCustomerPayloads,
  findIntegrationPayloads,
  type RecordRedaction,
  type RecordTarget,
  type RedactedRecords,
  redactRecords,
  replaceEventPayload,
  type StoredPayload,
} from './redact.ts';
export {
  actForWorkspaceIn,
  inWorkerPipeline,
  inWorkerTransaction,
  isConnectionLost,
  onIngestConnection,
  queueOwnerPool,
  type WorkerTx,
  workerPool,
} from './tx.ts';
