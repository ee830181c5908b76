/**
 * What happens to a delivery once its bytes and headers are in: route it by shop, verify its HMAC,
 * store it (with its job) or as `failed`, and the read-again protocol that keeps the store's memory
 * of shops (store.ts) from ever deciding more than a store:
 *
 *   - unknown or inactive shop → `ignored`, nothing stored (compliance topics are taken from an
 *     inactive integration too: they are legal obligations)
 *   - HMAC (constant time) against the current and, during a rotation, the previous secret → else `bad_hmac`
 *   - signed body that is not JSON (or not UTF-8) → stored as a `failed` event, `invalid_json`
 *   - insert the event (on conflict do nothing) + its job, one commit → `accepted` or `duplicate`
 *
 * A remembered route may only lead to a store, which the database checks again (`stale`): every
 * other answer (ignored, 401, failed) is decided on a fresh read of the integration. HTTP is the
 * route's (route.ts); nothing here knows a status code.
 */
import { decryptSecret, SecretDecryptionError } from '@crm/db';
import type { NewWebhookEvent, RoutedIntegration } from '@crm/db/worker';
import { matchShopifyHmac } from '@crm/shopify';
import type { AppDeps } from '../deps.ts';
import { bodyText, isJsonText, stripNul } from './body.ts';
import type { WebhookStore } from './store.ts';

/** Topics that are legal obligations: still taken from a shop whose integration is disabled. */
const COMPLIANCE_TOPICS = new Set(['customers/redact', 'shop/redact', 'customers/data_request']);

export type IntakeOutcome = 'accepted' | 'duplicate' | 'ignored' | 'invalid_json' | 'bad_hmac' | 'error';

/** A delivery as it came: the raw bytes, its signature and its headers (all present and trimmed). */
export type SignedDelivery = {
  body: Uint8Array;
  hmac: string;
  /** Lowercased. */
  shopDomain: string;
  /** Lowercased. */
  topic: string;
  webhookId: string;
  eventId: string | null;
  apiVersion: string | null;
  triggeredAt: Date | null;
  /** The delivery headers kept with the event (STORED_WEBHOOK_HEADERS that were present). */
  headers: Record<string, string>;
};

/** The integration changed between a fresh read and the store: not stored; Shopify will retry. */
export class IntegrationChanged extends Error {}

/** A signing secret valid now, with the ciphertext it is stored as. */
type SigningSecret = { secret: string; stored: string };

/**
 * The integration's signing secrets that are valid now: the current one, and a previous one not yet
 * expired. Decrypted once per routed integration: a remembered integration is the same object for
 * every delivery of its shop, and its secrets go when it is forgotten.
 */
const decrypted = new WeakMap<RoutedIntegration, SigningSecret[]>();
function signingSecrets(integration: RoutedIntegration, deps: Pick<AppDeps, 'key'>): SigningSecret[] {
  const known = decrypted.get(integration);
  if (known) return known;
  const secrets: SigningSecret[] = [];
  for (const stored of [integration.webhookSecretEnc, integration.webhookSecretPreviousEnc]) {
    if (stored) secrets.push({ secret: decryptSecret(stored, deps.key), stored });
  }
  decrypted.set(integration, secrets);
  return secrets;
}

function newEvent(d: SignedDelivery, integrationId: string, text: string): NewWebhookEvent {
  return {
    integrationId,
    externalId: d.webhookId,
    eventId: d.eventId,
    topic: d.topic,
    shopDomain: d.shopDomain,
    apiVersion: d.apiVersion,
    triggeredAt: d.triggeredAt,
    payload: text,
    headers: d.headers,
  };
}

/**
 * Takes deliveries in: resolves after the outcome is durable (for `accepted`, after the commit that
 * holds the event and its job). Rejects with IntegrationChanged, or the database's error, when
 * nothing can be said to be stored.
 */
export function createWebhookIntake(
  deps: Pick<AppDeps, 'key' | 'log'>,
  store: WebhookStore,
): (delivery: SignedDelivery) => Promise<IntakeOutcome> {
  const attempt = async (d: SignedDelivery, fresh: boolean): Promise<IntakeOutcome | 'read again'> => {
    const routed = await store.route(d.shopDomain, { fresh });
    const settle = (decided: IntakeOutcome): IntakeOutcome | 'read again' =>
      routed?.remembered ? 'read again' : decided;
    const integration = routed?.integration;
    const needsActiveIntegration = !COMPLIANCE_TOPICS.has(d.topic);
    if (!integration || (!integration.isActive && needsActiveIntegration)) return settle('ignored');
    let secrets: SigningSecret[];
    try {
      secrets = signingSecrets(integration, deps);
    } catch (error) {
      if (!(error instanceof SecretDecryptionError)) throw error;
      deps.log.error('webhook signing secret cannot be decrypted (encryption key changed?)', {
        integrationId: integration.id,
      });
      return settle('error');
    }
    const match = matchShopifyHmac(
      d.body,
      d.hmac,
      secrets.map((s) => s.secret),
    );
    const verifiedWith = secrets[match]?.stored;
    if (verifiedWith === undefined) return settle('bad_hmac');

    const { text, validUtf8 } = bodyText(d.body);
    if (!validUtf8 || !isJsonText(text)) {
      if (routed?.remembered) return 'read again';
      await store.storeFailed(
        integration.workspaceId,
        newEvent(d, integration.id, stripNul(text)),
        validUtf8
          ? 'Shopify sent a body that is not valid JSON, so it could not be read.'
          : 'Shopify sent a body that is not valid UTF-8 text, so it could not be read.',
      );
      return 'invalid_json';
    }
    const outcome = await store.store({
      ...newEvent(d, integration.id, text),
      workspaceId: integration.workspaceId,
      verifiedWith,
      needsActiveIntegration,
    });
    if (outcome !== 'stale') return outcome;
    // Changed between a fresh read and the store: a race with the owner; Shopify will retry.
    if (!routed?.remembered) throw new IntegrationChanged();
    return 'read again';
  };

  return async (delivery) => {
    const first = await attempt(delivery, false);
    if (first !== 'read again') return first;
    const second = await attempt(delivery, true); // a fresh read is never 'read again'
    if (second === 'read again') throw new IntegrationChanged();
    return second;
  };
}
