/**
 * The webhook route's database work, grouped across concurrent deliveries (group commit):
 *
 * - routing: the integrations of the shop domains of every delivery waiting, in one read;
 * - storing: the verified deliveries waiting, each workspace's in one statement, all in ONE
 *   transaction — every event with its job, one commit and one NOTIFY for the lot.
 *
 * Each is one round trip (a pipelined transaction: BEGIN, statements and COMMIT sent together). A delivery is
 *   acked only after the commit of the transaction that holds it, so "200 means durable" holds for
 *   each of them, as when each had its own transaction.
 *
 * A batch that fails for a reason other than a lost connection is retried one delivery per
 * transaction, so one bad delivery cannot take the others' acks with it. An idle server sends each
 * delivery at once (no waiting for company): grouping only happens while earlier batches are in
 * flight.
 */
import type { Db } from '@crm/db';
import {
  actForWorkspaceIn,
  findIntegrationsByShopDomains,
  insertFailedWebhookEvent,
  insertWebhookEventsAndEnqueue,
  inWorkerPipeline,
  isConnectionLost,
  type NewWebhookEvent,
  type RoutedIntegration,
  webhookEventKey,
} from '@crm/db/worker';
import { type Batcher, createBatcher, type ItemResult } from './batcher.ts';

export type StoreOutcome = 'accepted' | 'duplicate';

export type WebhookStore = {
  /** The integration a shop domain maps to (case-insensitive), or null. */
  route: (shopDomain: string) => Promise<RoutedIntegration | null>;
  /** Stores a verified delivery with its job for the integration's workspace; resolves after commit. */
  store: (workspaceId: string, event: NewWebhookEvent) => Promise<StoreOutcome>;
  /** Stores a signed delivery that cannot be read as `failed`, with the reason an owner will see; no job. */
  storeFailed: (workspaceId: string, event: NewWebhookEvent, reason: string) => Promise<void>;
};

export type WebhookStoreOptions = {
  /** Deliveries per transaction at most. */
  maxBatch?: number;
  /** Payload bytes per transaction at most (a batch holds one delivery at least). */
  maxBatchBytes?: number;
  /** Transactions of each kind (routing, storing) running at once. */
  maxInFlight?: number;
  /** A transaction running longer than this no longer holds back the next one. */
  stallMs?: number;
};

type Pending = { workspaceId: string; event: NewWebhookEvent };

const ok = <O>(value: O): ItemResult<O> => ({ ok: true, value });

/** Stores deliveries in one transaction; each gets accepted, or duplicate when already stored. */
async function storeTogether(db: Db, items: Pending[]): Promise<ItemResult<StoreOutcome>[]> {
  const byWorkspace = new Map<string, NewWebhookEvent[]>();
  for (const { workspaceId, event } of items) {
    const events = byWorkspace.get(workspaceId) ?? [];
    events.push(event);
    byWorkspace.set(workspaceId, events);
  }
  // One round trip: BEGIN, per workspace the switch to it and its insert + enqueue, COMMIT.
  const inserted = await inWorkerPipeline(db, (tx) =>
    Promise.all(
      [...byWorkspace].map(([workspaceId, events]) =>
        Promise.all([actForWorkspaceIn(tx, workspaceId), insertWebhookEventsAndEnqueue(tx, events)]),
      ),
    ).then((parts) => new Set(parts.flatMap(([, added]) => [...added]))),
  );
  // A webhook id given twice in one batch was inserted once: the first is accepted, the rest are duplicates.
  const answered = new Set<string>();
  return items.map(({ event }) => {
    const key = webhookEventKey(event.integrationId, event.externalId);
    const first = !answered.has(key);
    answered.add(key);
    return ok(first && inserted.has(key) ? 'accepted' : 'duplicate');
  });
}

export function createWebhookStore(db: Db, options: WebhookStoreOptions = {}): WebhookStore {
  const maxInFlight = options.maxInFlight ?? 2;
  const maxBatch = options.maxBatch ?? 64;
  const stallMs = options.stallMs ?? 500;

  const routing: Batcher<string, RoutedIntegration | null> = createBatcher({
    maxBatch,
    maxInFlight,
    stallMs,
    run: async (domains) => {
      const found = await inWorkerPipeline(db, (tx) => findIntegrationsByShopDomains(tx, domains));
      return domains.map((d) => ok(found.get(d.toLowerCase()) ?? null));
    },
  });

  const storing: Batcher<Pending, StoreOutcome> = createBatcher({
    maxBatch,
    maxInFlight,
    stallMs,
    weigh: (p) => p.event.payload.length,
    maxWeight: options.maxBatchBytes ?? 4 * 1024 * 1024,
    run: async (items) => {
      try {
        return await storeTogether(db, items);
      } catch (error) {
        if (items.length === 1 || isConnectionLost(error)) throw error;
        // Something in the batch was refused: each delivery on its own, so only that one fails.
        const results = await Promise.allSettled(items.map((item) => storeTogether(db, [item])));
        return results.map((r): ItemResult<StoreOutcome> => {
          if (r.status === 'rejected') return { ok: false, error: r.reason };
          return r.value[0] ?? { ok: false, error: new Error('no result') };
        });
      }
    },
  });

  return {
    route: (shopDomain) => routing.submit(shopDomain),
    store: (workspaceId, event) => storing.submit({ workspaceId, event }),
    storeFailed: async (workspaceId, event, reason) => {
      await inWorkerPipeline(db, (tx) =>
        Promise.all([actForWorkspaceIn(tx, workspaceId), insertFailedWebhookEvent(tx, event, reason)]),
      );
    },
  };
}
