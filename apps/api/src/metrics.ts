/**
 * Prometheus metrics (prom-client), one registry per process. Instrument with one-line calls:
 *
 *   metrics.webhookDelivery(topic, outcome, status, seconds)   webhooks/route.ts, every reply
 *   metrics.eventFinished(topic, outcome, receivedAt)           jobs/process-event.ts
 *   metrics.tokenRenewals.inc({ grant, outcome })              token renewal (connect): outcome
 *                                                              'renewed' | 'failed' | 'refused'
 *   metrics.reconcileRuns.inc({ outcome }), metrics.reconcilePages.inc()   reconcile/task.ts
 *
 * Counting is on only in a process that serves its metrics (METRICS_ENABLED or METRICS_TOKEN).
 * Label values are bounded: never a workspace id or a shop domain (one series each would grow without
 * limit); topics outside Shopify's known set count as `other`. Queue depth, oldest pending job and
 * database sessions are read when scraped, at most every QUEUE_STATS_TTL_MS (packages/db worker/metrics.ts).
 */

import type { Db } from '@crm/db';
import { type PoolSessions, type QueueStats, readPoolSessions, readQueueStats } from '@crm/db/worker';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();

const KNOWN_TOPICS = new Set([
  'orders/create',
  'orders/updated',
  'orders/paid',
  'orders/cancelled',
  'orders/fulfilled',
  'orders/partially_fulfilled',
  'orders/delete',
  'orders/edited',
  'app/uninstalled',
  'customers/redact',
  'customers/data_request',
  'shop/redact',
]);

/** A topic as a label value: Shopify's known topics as they are, anything else (or none) `other`. */
export function topicLabel(topic: string | null | undefined): string {
  return topic && KNOWN_TOPICS.has(topic) ? topic : 'other';
}

const webhookDeliveries = new Counter({
  name: 'crm_webhook_deliveries_total',
  help: 'Webhook deliveries answered, by topic, outcome (accepted, duplicate, ignored, bad_hmac, missing_hmac, too_large, busy, unavailable, …) and HTTP status',
  labelNames: ['topic', 'outcome', 'status'] as const,
  registers: [registry],
});

const webhookAckSeconds = new Histogram({
  name: 'crm_webhook_ack_seconds',
  help: 'Time from a delivery reaching the route to its answer, by outcome',
  labelNames: ['outcome'] as const,
  buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

const webhookEvents = new Counter({
  name: 'crm_webhook_events_total',
  help: 'Webhook event processing attempts that ended, by topic and outcome (processed, ignored, failed, retried)',
  labelNames: ['topic', 'outcome'] as const,
  registers: [registry],
});

const processingSeconds = new Histogram({
  name: 'crm_webhook_processing_seconds',
  help: 'Time from the ack (event stored) to the end of its processing (order written), by topic and outcome',
  labelNames: ['topic', 'outcome'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
  registers: [registry],
});

const tokenRenewals = new Counter({
  name: 'crm_shopify_token_renewals_total',
  help: 'Shopify access token renewals, by grant (client_credentials, refresh_token) and outcome (renewed, failed, refused)',
  labelNames: ['grant', 'outcome'] as const,
  registers: [registry],
});

const reconcileRuns = new Counter({
  name: 'crm_reconcile_runs_total',
  help: 'Reconcile/backfill runs, by outcome (started, finished, failed)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

const reconcilePages = new Counter({
  name: 'crm_reconcile_pages_total',
  help: 'Order pages read from the Shopify Admin API by reconcile runs',
  registers: [registry],
});

/** Counting starts when this process serves its metrics (observeDatabase): nobody reads them otherwise. */
let active = false;

export const metrics = {
  webhookDelivery(topic: string | null | undefined, outcome: string, status: number, seconds: number): void {
    if (!active) return;
    webhookDeliveries.inc({ topic: topicLabel(topic), outcome, status: String(status) });
    webhookAckSeconds.observe({ outcome }, seconds);
  },
  /** A processing attempt ended; `receivedAt` (the ack) gives the latency for every outcome but `retried`. */
  eventFinished(
    topic: string,
    outcome: 'processed' | 'ignored' | 'failed' | 'retried',
    receivedAt?: Date,
  ): void {
    if (!active) return;
    const t = topicLabel(topic);
    webhookEvents.inc({ topic: t, outcome });
    if (receivedAt && outcome !== 'retried') {
      processingSeconds.observe(
        { topic: t, outcome },
        Math.max(0, (Date.now() - receivedAt.getTime()) / 1000),
      );
    }
  },
  tokenRenewals,
  reconcileRuns,
  reconcilePages,
};

/** How long queue and session figures are reused between scrapes. */
export const QUEUE_STATS_TTL_MS = 5000;

type Sampled = { queue: QueueStats; sessions: PoolSessions };
let source: Db | null = null;
/** Every pool of this app is named `crm-<process>-<pool>` (crm-api-ingest, crm-worker-worker, …). */
const POOL_PREFIX = 'crm';
let sample: { at: number; value: Promise<Sampled | null> } | null = null;

function sampleDatabase(): Promise<Sampled | null> {
  const now = Date.now();
  if (sample && now - sample.at < QUEUE_STATS_TTL_MS) return sample.value;
  const from = source;
  const value = from
    ? Promise.all([readQueueStats(from), readPoolSessions(from, POOL_PREFIX)]).then(
        ([queue, sessions]) => ({ queue, sessions }),
        () => null, // database down: the gauges keep no stale value (see crm_database_up)
      )
    : Promise.resolve(null);
  sample = { at: now, value };
  return value;
}

new Gauge({
  name: 'crm_database_up',
  help: '1 when the last sample of the queue and sessions could be read from the database, else 0',
  registers: [registry],
  async collect() {
    this.set((await sampleDatabase()) ? 1 : 0);
  },
});

new Gauge({
  name: 'crm_queue_jobs',
  help: 'Jobs in the queue, by state (pending: due and not taken; running; scheduled: retries waiting; exhausted)',
  labelNames: ['state'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    const s = await sampleDatabase();
    if (!s) return;
    for (const state of ['pending', 'running', 'scheduled', 'exhausted'] as const)
      this.set({ state }, s.queue[state]);
  },
});

new Gauge({
  name: 'crm_queue_oldest_pending_seconds',
  help: 'How long the oldest job that is due and not taken has been waiting (0: none)',
  registers: [registry],
  async collect() {
    const s = await sampleDatabase();
    this.set(s ? s.queue.oldestPendingSeconds : 0);
  },
});

new Gauge({
  name: 'crm_db_connections',
  help: "Database sessions of this app's pools as PostgreSQL sees them (all processes with the same application name), by pool and state",
  labelNames: ['pool', 'state'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    const s = await sampleDatabase();
    for (const row of s?.sessions ?? []) this.set({ pool: row.pool, state: row.state }, row.count);
  },
});

let defaults = false;

/**
 * Points the database gauges at this process's database and starts the process metrics (CPU, memory,
 * event loop). Called where /metrics is served.
 */
export function observeDatabase(db: Db): void {
  active = true;
  source = db;
  sample = null;
  if (!defaults) {
    collectDefaultMetrics({ register: registry, prefix: 'crm_' });
    defaults = true;
  }
}
