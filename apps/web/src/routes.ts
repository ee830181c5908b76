import {
  isUuid,
  isWebhookEventStatus,
  WEBHOOK_EVENT_STATUSES,
  type WebhookEventStatus,
} from '@crm/db/values';

/**
 * The SPA's URLs, in one place. Every page lives under its workspace: `/w/<workspace id>/<section>`,
 * so a link names the workspace it shows; the sync page's event filters live in its query string
 * (`/w/<id>/sync?status=failed&topic=orders%2Fcreate&from=2026-12-01&to=2026-12-04`), so a filtered
 * list can be shared and reloaded. Pure functions only: routing itself is wouter's (app.tsx).
 */

export const SECTIONS = [
  { path: '/integration', label: 'Integration' },
  { path: '/sync', label: 'Sync status' },
  { path: '/reconcile', label: 'Reconcile' },
  { path: '/reviews', label: 'Contact reviews' },
  { path: '/orders', label: 'Orders' },
] as const;

export type SectionPath = (typeof SECTIONS)[number]['path'];
export const HOME: SectionPath = '/integration';

/** The pattern of the workspace part of every page's path (wouter's nested route). */
export const WORKSPACE_ROUTE = '/w/:workspaceId';
export const EVENT_ROUTE = '/sync/events/:eventId';

export { isUuid };

/** The absolute path of a page of a workspace (`path` relative to the workspace, e.g. `/sync`). */
export function workspacePath(workspaceId: string, path: string = HOME): string {
  return `/w/${encodeURIComponent(workspaceId)}${path}`;
}

/** The path of one event's page, relative to its workspace. */
export function eventPath(eventId: string): string {
  return `/sync/events/${encodeURIComponent(eventId)}`;
}

/** The section a path (relative to a workspace) belongs to, e.g. `/sync` for an event's page. */
export function sectionOf(path: string): SectionPath | null {
  return SECTIONS.find((s) => path === s.path || path.startsWith(`${s.path}/`))?.path ?? null;
}

/**
 * Where a path without a workspace (an old link such as `/sync?status=failed`, or `/`) goes once
 * the workspace is known: the same page of that workspace, its query kept; the home page for `/`
 * and anything unknown.
 */
export function withWorkspace(workspaceId: string, path: string, search: string): string {
  const known = sectionOf(path) !== null;
  const query = search && known ? (search.startsWith('?') ? search : `?${search}`) : '';
  return `${workspacePath(workspaceId, known ? path : HOME)}${query}`;
}

export type EventStatus = WebhookEventStatus;
export const EVENT_STATUSES = WEBHOOK_EVENT_STATUSES;

export type EventFilters = {
  status?: EventStatus;
  topic?: string;
  /** yyyy-mm-dd, local day: events received on or after its start. */
  from?: string;
  /** yyyy-mm-dd, local day: events received up to its end. */
  to?: string;
};

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const TOPIC = /^[a-z_]+\/[a-z_]+$/;

function isDay(text: string): boolean {
  const m = DAY.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/**
 * The event filters of a query string. What a hand-edited or stale link gets wrong is dropped, not
 * thrown: an unknown status, a topic that is not `resource/action`, an impossible date; a range
 * whose start is after its end keeps only its start.
 */
export function parseEventFilters(search: string | URLSearchParams): EventFilters {
  const params = typeof search === 'string' ? new URLSearchParams(search) : search;
  const out: EventFilters = {};
  const status = params.get('status');
  if (status && isWebhookEventStatus(status)) out.status = status;
  const topic = params.get('topic');
  if (topic && topic.length <= 100 && TOPIC.test(topic)) out.topic = topic;
  const from = params.get('from');
  if (from && isDay(from)) out.from = from;
  const to = params.get('to');
  if (to && isDay(to) && !(out.from && to < out.from)) out.to = to;
  return out;
}

/** The query string of some event filters: `''` without any, else `?status=…` in a fixed order. */
export function eventFiltersSearch(filters: EventFilters): string {
  const params = new URLSearchParams();
  if (filters.status) params.set('status', filters.status);
  if (filters.topic) params.set('topic', filters.topic);
  if (filters.from) params.set('from', filters.from);
  if (filters.to) params.set('to', filters.to);
  const text = params.toString();
  return text ? `?${text}` : '';
}

export function hasEventFilters(filters: EventFilters): boolean {
  return Boolean(filters.status || filters.topic || filters.from || filters.to);
}

/**
 * The query string after one filter control changed (`''` clears that filter), normalised by
 * parseEventFilters: e.g. a start moved after the end drops the end.
 */
export function changeEventFilters(
  search: string,
  change: Partial<Record<keyof EventFilters, string>>,
): string {
  const params = new URLSearchParams(search);
  for (const [key, value] of Object.entries(change)) {
    if (value) params.set(key, value);
    else params.delete(key);
  }
  return eventFiltersSearch(parseEventFilters(params));
}

/** Which test orders the Orders board shows: `?test=exclude` hides them, `?test=only` shows only them. */
export const TEST_ORDER_FILTERS = ['include', 'exclude', 'only'] as const;
export type TestOrderFilter = (typeof TEST_ORDER_FILTERS)[number];

/** The Orders board's test-order filter of a query string; anything else (or none) is `include`. */
export function parseTestOrderFilter(search: string | URLSearchParams): TestOrderFilter {
  const value = (typeof search === 'string' ? new URLSearchParams(search) : search).get('test');
  return TEST_ORDER_FILTERS.find((f) => f === value) ?? 'include';
}

/** The query string after the test-order filter changed, other parameters kept (`include` drops it). */
export function changeTestOrderFilter(search: string, filter: TestOrderFilter): string {
  const params = new URLSearchParams(search);
  if (filter === 'include') params.delete('test');
  else params.set('test', filter);
  const text = params.toString();
  return text ? `?${text}` : '';
}
