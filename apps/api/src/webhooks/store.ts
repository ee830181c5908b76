/**
 * The webhook route's database work, grouped across concurrent deliveries (group commit):
 *
 * - routing: shop domain → integration. An active integration is remembered for a few seconds, so a
 *   busy shop's deliveries skip this read; a shop not remembered is read together with the other
 *   shops waiting, in one pipelined transaction.
 * - storing: the verified deliveries waiting, of every workspace, in ONE statement
 *   (app.store_webhook_events, migrations 0016 and 0022), hence one implicit transaction, one round
 *   trip and one commit for every event (a pending event is its own job). The statement stores an
 *   event only if its integration still holds what the route relied on (shop domain, active, the
 *   secret that verified it); what a remembered route got wrong comes back `stale`, and the route
 *   reads the integration again.
 *
 * A delivery is acked only after the commit that holds it, so "200 means durable" holds for each, as
 * when each had its own transaction. A batch that fails for a reason other than a lost connection is
 * retried one delivery per statement, so one bad delivery cannot take the others' acks with it. An
 * idle server sends each delivery at once (no waiting for company): grouping only happens while
 * earlier batches are in flight.
 *
 * One statement of each kind in flight by default (maxInFlight): the deliveries arriving meanwhile
 * make the next, larger group — fewer commits, which is what a delivery's cost is made of here
 * (measured on 2 cores, 16 connections: one storing statement in flight 2,011–2,299 req/s, three
 * 1,517 req/s; BENCHMARKS.md). The ack's commit holds no NOTIFY. The workers are woken after the
 * commit, outside it: one NOTIFY on 'crm_webhook_events' at a time, at most one every NOTIFY_GAP_MS,
 * for every group stored meanwhile (a NOTIFY holds a cluster-wide lock from its commit through the
 * WAL flush; workers also poll, so a lost one only delays).
 */
import type { Db } from '@crm/db';
import {
  actForWorkspaceIn,
  findIntegrationsByShopDomains,
  insertFailedWebhookEvent,
  inWorkerPipeline,
  isConnectionLost,
  type NewWebhookEvent,
  notifyWebhookEvents,
  onIngestConnection,
  type RoutedIntegration,
  type StoreOutcome,
  storeWebhookEvents,
  type VerifiedWebhookEvent,
  webhookEventKey,
  workerPool,
} from '@crm/db/worker';
import { type Batcher, createBatcher, type ItemResult } from './batcher.ts';

export type { StoreOutcome };

/** A shop's integration, and whether it was remembered (read earlier) rather than read just now. */
export type RoutedShop = { integration: RoutedIntegration; remembered: boolean };

export type WebhookStore = {
  /**
   * The integration a shop domain maps to (case-insensitive), or null. `fresh`: read it now, never
   * from memory — for every decision that the store would not check again (ignore, 401, failed).
   */
  route: (shopDomain: string, options: { fresh: boolean }) => Promise<RoutedShop | null>;
  /**
   * Stores a verified delivery with its job; resolves after commit. `stale`: its integration no
   * longer holds what the route relied on, nothing was stored.
   */
  store: (event: VerifiedWebhookEvent) => Promise<StoreOutcome>;
  /** Stores a signed delivery that cannot be read as `failed`, with the reason an owner will see; no job. */
  storeFailed: (workspaceId: string, event: NewWebhookEvent, reason: string) => Promise<void>;
};

export type WebhookStoreOptions = {
  /** Deliveries per statement at most. */
  maxBatch?: number;
  /** Payload bytes per statement at most (a batch holds one delivery at least). */
  maxBatchBytes?: number;
  /** Statements of each kind (routing, storing) running at once (default 1). */
  maxInFlight?: number;
  /** The least time between two wake-ups of the workers (default NOTIFY_GAP_MS). */
  notifyGapMs?: number;
  /** A statement running longer than this no longer holds back the next one. */
  stallMs?: number;
  /** How long an active integration is remembered by shop domain (0: never). */
  rememberMs?: number;
  /** How many shops are remembered at most (the oldest are forgotten first). */
  rememberShops?: number;
};

const ok = <O>(value: O): ItemResult<O> => ({ ok: true, value });

/** The least time between two NOTIFYs waking the workers. */
export const NOTIFY_GAP_MS = 5;

/**
 * The workers' wake-up, coalesced: kick() sends one notification now if none is in flight, else one
 * more once the one in flight is done and `gapMs` passed — however many kicks came meanwhile.
 */
export function createWaker(send: () => Promise<void>, gapMs: number): { kick: () => void } {
  let busy = false;
  let again = false;
  const kick = (): void => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    again = false;
    send()
      .catch(() => {}) // the workers poll: a lost wake-up only delays
      .finally(() =>
        setTimeout(() => {
          busy = false;
          if (again) kick();
        }, gapMs),
      );
  };
  return { kick };
}

/**
 * Active integrations by lowercased shop domain, each for `ttlMs` after it was read; at most
 * `capacity` shops (a Map keeps insertion order, so the first key is the oldest).
 */
function createRouteMemory(ttlMs: number, capacity: number) {
  const shops = new Map<string, { integration: RoutedIntegration; until: number }>();
  return {
    recall(shop: string): RoutedIntegration | null {
      const entry = shops.get(shop);
      if (!entry) return null;
      if (entry.until > performance.now()) return entry.integration;
      shops.delete(shop);
      return null;
    },
    /** What a fresh read found: an active integration is remembered, anything else forgotten. */
    learn(shop: string, integration: RoutedIntegration | null): void {
      shops.delete(shop);
      if (ttlMs <= 0 || !integration?.isActive) return;
      if (shops.size >= capacity) {
        const oldest = shops.keys().next().value;
        if (oldest !== undefined) shops.delete(oldest);
      }
      shops.set(shop, { integration, until: performance.now() + ttlMs });
    },
  };
}

/** Stores deliveries in one statement; each gets accepted, duplicate or stale. */
async function storeTogether(db: Db, events: VerifiedWebhookEvent[]): Promise<ItemResult<StoreOutcome>[]> {
  const outcomes = await onIngestConnection(db, (sql) => storeWebhookEvents(sql, events));
  // A webhook id given twice in one batch was inserted once: the first is accepted, the rest are duplicates.
  const answered = new Set<string>();
  return events.map((event) => {
    const key = webhookEventKey(event.integrationId, event.externalId);
    const first = !answered.has(key);
    answered.add(key);
    const outcome = outcomes.get(key);
    if (outcome === undefined) return { ok: false as const, error: new Error('no outcome for a delivery') };
    return ok<StoreOutcome>(outcome === 'accepted' && !first ? 'duplicate' : outcome);
  });
}

export function createWebhookStore(db: Db, options: WebhookStoreOptions = {}): WebhookStore {
  const maxInFlight = options.maxInFlight ?? 1;
  const maxBatch = options.maxBatch ?? 64;
  const waker = createWaker(() => notifyWebhookEvents(workerPool(db)), options.notifyGapMs ?? NOTIFY_GAP_MS);
  const stallMs = options.stallMs ?? 500;
  const memory = createRouteMemory(options.rememberMs ?? 30_000, options.rememberShops ?? 10_000);

  const routing: Batcher<string, RoutedIntegration | null> = createBatcher({
    maxBatch,
    maxInFlight,
    stallMs,
    run: async (domains) => {
      const found = await inWorkerPipeline(db, (tx) => findIntegrationsByShopDomains(tx, domains));
      return domains.map((d) => {
        const integration = found.get(d) ?? null;
        memory.learn(d, integration);
        return ok(integration);
      });
    },
  });

  const storing: Batcher<VerifiedWebhookEvent, StoreOutcome> = createBatcher({
    maxBatch,
    maxInFlight,
    stallMs,
    weigh: (event) => event.payload.length,
    maxWeight: options.maxBatchBytes ?? 4 * 1024 * 1024,
    run: async (events) => {
      try {
        const results = await storeTogether(db, events);
        if (results.some((r) => r.ok && r.value === 'accepted')) waker.kick();
        return results;
      } catch (error) {
        if (events.length === 1 || isConnectionLost(error)) throw error;
        // Something in the batch was refused: each delivery on its own, so only that one fails.
        const settled = await Promise.allSettled(events.map((event) => storeTogether(db, [event])));
        waker.kick();
        return settled.map((r): ItemResult<StoreOutcome> => {
          if (r.status === 'rejected') return { ok: false, error: r.reason };
          return r.value[0] ?? { ok: false, error: new Error('no result') };
        });
      }
    },
  });

  return {
    route: async (shopDomain, { fresh }) => {
      const shop = shopDomain.toLowerCase();
      const known = fresh ? null : memory.recall(shop);
      if (known) return { integration: known, remembered: true };
      const integration = await routing.submit(shop);
      return integration ? { integration, remembered: false } : null;
    },
    store: (event) => storing.submit(event),
    storeFailed: async (workspaceId, event, reason) => {
      await inWorkerPipeline(db, (tx) =>
        Promise.all([actForWorkspaceIn(tx, workspaceId), insertFailedWebhookEvent(tx, event, reason)]),
      );
    },
  };
}
