/**
 * Values the schema fixes and every layer shares, with no import of their own so that any package
 * (and the SPA, through `@crm/db/values`) can use them without pulling in a database client.
 */

/** webhook_events.status, as its check constraint (migration 0002) allows. */
export const WEBHOOK_EVENT_STATUSES = ['pending', 'processed', 'failed', 'ignored'] as const;
export type WebhookEventStatus = (typeof WEBHOOK_EVENT_STATUSES)[number];

export function isWebhookEventStatus(text: string): text is WebhookEventStatus {
  return (WEBHOOK_EVENT_STATUSES as readonly string[]).includes(text);
}

/** The text form of a UUID (any version), as PostgreSQL's uuid type prints and reads it. */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(text: string): boolean {
  return UUID_PATTERN.test(text);
}
