/**
 * Prometheus metrics (prom-client), one registry per process, every metric declared once in the tables
 * below (COUNTED: counters and histograms; SAMPLED: gauges read from the database when scraped).
 * Instrument with one-line calls:
 *
 *   metrics.webhookDelivery(topic, outcome, status, seconds)   webhooks/route.ts, every reply
 *   metrics.eventFinished(topic, outcome, receivedAt)           jobs/process-event.ts
 *   metrics.eventsClaimed(found)                                jobs/event-workers.ts, a claim of due events
 *   metrics.eventAttemptsCut.inc()                              jobs/event-workers.ts, an attempt cut
 *   metrics.tokenRenewals.inc({ grant, outcome })              token renewal (connect): outcome
 *                                                              'renewed' | 'failed' | 'refused'
 *   metrics.reconcileRuns.inc({ outcome }), metrics.reconcilePages.inc()   reconcile/task.ts
 *
 * Counting is on only in a process that serves its metrics (METRICS_ENABLED or METRICS_TOKEN).
 * Label values are bounded: never a workspace id or a shop domain (one series each would grow without
 * limit); topics outside @crm/shopify's KNOWN_SHOPIFY_TOPICS count as `other`. The per-request calls
 * reuse one bound child per label combination (no label hashing per delivery). Queue depth, oldest
 * pending job and database sessions are read when scraped, at most every QUEUE_STATS_TTL_MS
 * (packages/db worker/metrics.ts).
 */

import type { Db } from '@crm/db';
import { type PoolSessions, type QueueStats, readPoolSessions, readQueueStats } from '@crm/db/worker';
import { KNOWN_SHOPIFY_TOPICS } from '@crm/shopify/topics';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();

const KNOWN_TOPICS: ReadonlySet<string> = new Set(KNOWN_SHOPIFY_TOPICS);

/** A topic as a label value: Shopify's known topics as they are, anything else (or none) `other`. */
export function topicLabel(topic: string | null | undefined): string {
  return topic && KNOWN_TOPICS.has(topic) ? topic : 'other';
}

type CountedSpec = { help: string; labels: readonly string[]; buckets?: readonly number[] };

/** Counters (no `buckets`) and histograms (`buckets`, in seconds), by metric name. */
const COUNTED = {
  crm_webhook_deliveries_total: {
    help: 'Webhook deliveries answered, by topic, outcome (accepted, duplicate, ignored, bad_hmac, missing_hmac, too_large, busy, unavailable, …) and HTTP status',
    labels: ['topic', 'outcome', 'status'],
  },
  crm_webhook_ack_seconds: {
    help: 'Time from a delivery reaching the route to its answer, by outcome',
    labels: ['outcome'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  },
  crm_webhook_events_total: {
    help: 'Webhook event processing attempts that ended, by topic and outcome (processed, ignored, failed, retried)',
    labels: ['topic', 'outcome'],
  },
  crm_webhook_processing_seconds: {
    help: 'Time from the ack (event stored) to the end of its processing (order written), by topic and outcome',
    labels: ['topic', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
  },
  crm_webhook_event_attempts_cut_total: {
    help: 'Webhook event attempts cut after running past their deadline (EVENT_ATTEMPT_TIMEOUT_SECONDS): their sessions ended; each event is retried after its failure is recorded or, if the attempt never answers, when its lease lapses. Any is worth a look: an attempt takes milliseconds',
    labels: [],
  },
  crm_webhook_event_claims_total: {
    help: "Claims of due webhook events by this process's event workers, by result (events: took at least one; none: found none due: polls of an idle queue, or a notification another worker answered first)",
    labels: ['result'],
  },
  crm_shopify_token_renewals_total: {
    help: 'Shopify access token renewals, by grant (client_credentials, refresh_token) and outcome (renewed, failed, refused)',
    labels: ['grant', 'outcome'],
  },
  crm_reconcile_runs_total: {
    help: 'Reconcile/backfill runs, by outcome (started, finished, failed)',
    labels: ['outcome'],
  },
  crm_reconcile_pages_total: {
    help: 'Order pages read from the Shopify Admin API by reconcile runs',
    labels: [],
  },
} as const satisfies Record<string, CountedSpec>;

type Label<S extends CountedSpec> = S['labels'][number];
type Counted<S extends CountedSpec> = S extends { buckets: readonly number[] }
  ? Histogram<Label<S>>
  : Counter<Label<S>>;
type CountedMetrics = { [N in keyof typeof COUNTED]: Counted<(typeof COUNTED)[N]> };

function declareCounted(): CountedMetrics {
  const out: Record<string, Counter | Histogram> = {};
  for (const [name, spec] of Object.entries(COUNTED) as [string, CountedSpec][]) {
    const common = { name, help: spec.help, labelNames: [...spec.labels], registers: [registry] };
    out[name] =
      'buckets' in spec && spec.buckets
        ? new Histogram({ ...common, buckets: [...spec.buckets] })
        : new Counter(common);
  }
  return out as CountedMetrics;
}

const counted = declareCounted();

/** One bound child per label combination, made on first use (prom-client hashes labels otherwise). */
function boundChildren<C>(make: (...values: string[]) => C): (...values: string[]) => C {
  const children = new Map<string, C>();
  return (...values) => {
    const key = values.join('\u0000');
    let child = children.get(key);
    if (!child) {
      child = make(...values);
      children.set(key, child);
    }
    return child;
  };
}

const deliveries = boundChildren((topic, outcome, status) =>
  counted.crm_webhook_deliveries_total.labels(topic ?? '', outcome ?? '', status ?? ''),
);
const ackSeconds = boundChildren((outcome) => counted.crm_webhook_ack_seconds.labels(outcome ?? ''));
const events = boundChildren((topic, outcome) =>
  counted.crm_webhook_events_total.labels(topic ?? '', outcome ?? ''),
);
const claims = boundChildren((result) => counted.crm_webhook_event_claims_total.labels(result ?? ''));
const processingSeconds = boundChildren((topic, outcome) =>
  counted.crm_webhook_processing_seconds.labels(topic ?? '', outcome ?? ''),
);

/** Counting starts when this process serves its metrics (observeDatabase): nobody reads them otherwise. */
let active = false;

export const metrics = {
  webhookDelivery(topic: string | null | undefined, outcome: string, status: number, seconds: number): void {
    if (!active) return;
    deliveries(topicLabel(topic), outcome, String(status)).inc();
    ackSeconds(outcome).observe(seconds);
  },
  /** A processing attempt ended; `receivedAt` (the ack) gives the latency for every outcome but `retried`. */
  eventFinished(
    topic: string,
    outcome: 'processed' | 'ignored' | 'failed' | 'retried',
    receivedAt?: Date,
  ): void {
    if (!active) return;
    const t = topicLabel(topic);
    events(t, outcome).inc();
    if (receivedAt && outcome !== 'retried') {
      processingSeconds(t, outcome).observe(Math.max(0, (Date.now() - receivedAt.getTime()) / 1000));
    }
  },
  /** The event workers claimed due events and got `found` of them. */
  eventsClaimed(found: number): void {
    if (active) claims(found > 0 ? 'events' : 'none').inc();
  },
  eventAttemptsCut: counted.crm_webhook_event_attempts_cut_total,
  tokenRenewals: counted.crm_shopify_token_renewals_total,
  reconcileRuns: counted.crm_reconcile_runs_total,
  reconcilePages: counted.crm_reconcile_pages_total,
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

type Reading = [labels: Record<string, string>, value: number];
type SampledSpec = { help: string; labels: readonly string[]; read: (s: Sampled | null) => Reading[] };

const QUEUE_STATES = ['pending', 'running', 'scheduled', 'exhausted'] as const;

/** Gauges, by metric name: set afresh from one database sample at each scrape. */
const SAMPLED: Record<string, SampledSpec> = {
  crm_database_up: {
    help: '1 when the last sample of the queue and sessions could be read from the database, else 0',
    labels: [],
    read: (s) => [[{}, s ? 1 : 0]],
  },
  crm_queue_jobs: {
    help: 'Jobs in the queue, by state (pending: due and not taken; running; scheduled: retries waiting; exhausted)',
    labels: ['state'],
    read: (s) => (s ? QUEUE_STATES.map((state): Reading => [{ state }, s.queue[state]]) : []),
  },
  crm_queue_oldest_pending_seconds: {
    help: 'How long the oldest job that is due and not taken has been waiting (0: none)',
    labels: [],
    read: (s) => [[{}, s ? s.queue.oldestPendingSeconds : 0]],
  },
  crm_db_connections: {
    help: "Database sessions of this app's pools as PostgreSQL sees them (all processes with the same application name), by pool and state",
    labels: ['pool', 'state'],
    read: (s) => (s?.sessions ?? []).map((row): Reading => [{ pool: row.pool, state: row.state }, row.count]),
  },
};

for (const [name, spec] of Object.entries(SAMPLED)) {
  new Gauge({
    name,
    help: spec.help,
    labelNames: [...spec.labels],
    registers: [registry],
    async collect() {
      const readings = spec.read(await sampleDatabase());
      this.reset();
      for (const [labels, value] of readings) this.set(labels, value);
    },
  });
}

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
