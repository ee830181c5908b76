import { keepPreviousData, useInfiniteQuery, useMutation, useQuery } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { formatDateTime, localMidnightIso, todayStartIso } from '../format.ts';
import {
  changeEventFilters,
  EVENT_STATUSES,
  type EventFilters,
  eventPath,
  hasEventFilters,
  parseEventFilters,
} from '../routes.ts';
import { queryClient, type RouterOutputs, trpc } from '../trpc.ts';
import { Empty, ErrorBox, Field, Loading, Notice, PageHeader, StatusBadge } from '../ui.tsx';
import { useWorkspace } from '../workspace.tsx';

type Counts = RouterOutputs['events']['stats']['today'];
export const REPLAY_READ_ONLY = 'Only the workspace owner can replay events.';

export function invalidateEvents(): Promise<void> {
  return queryClient.invalidateQueries({ queryKey: trpc.events.pathKey() });
}

export default function SyncPage() {
  const { workspace, isOwner } = useWorkspace();
  const workspaceId = workspace.id;
  const [todayStart] = useState(todayStartIso);
  const stats = useQuery({
    ...trpc.events.stats.queryOptions({ workspaceId, todayStart }),
    refetchInterval: 5_000,
  });
  const integration = useQuery(trpc.integrations.get.queryOptions({ workspaceId }));
  const replayAll = useMutation(trpc.events.replayAllFailed.mutationOptions({ onSuccess: invalidateEvents }));
  const failed = stats.data?.overall.failed ?? 0;

  return (
    <>
      <PageHeader title="Sync status">
        <button
          type="button"
          className="btn"
          disabled={!isOwner || failed === 0 || replayAll.isPending}
          title={!isOwner ? REPLAY_READ_ONLY : undefined}
          onClick={() => replayAll.mutate({ workspaceId })}
        >
          {replayAll.isPending ? 'Replaying…' : `Replay all failed${failed ? ` (${failed})` : ''}`}
        </button>
      </PageHeader>
      {!isOwner ? <p className="muted">{REPLAY_READ_ONLY}</p> : null}
      <div role="status" aria-live="polite">
        {replayAll.data ? (
          <Notice tone="success">
            {replayAll.data.count === 1 ? '1 failed event' : `${replayAll.data.count} failed events`} queued
            again.
          </Notice>
        ) : null}
      </div>
      {replayAll.error ? <ErrorBox error={replayAll.error} /> : null}

      <section className="card" aria-labelledby="counts-title">
        <h2 id="counts-title">Webhook events</h2>
        {stats.isPending ? (
          <Loading />
        ) : stats.error ? (
          <ErrorBox error={stats.error} onRetry={() => void stats.refetch()} />
        ) : (
          <>
            <div className="stats">
              <CountsBlock title="Today" counts={stats.data.today} />
              <CountsBlock title="Overall" counts={stats.data.overall} />
            </div>
            <p>
              Last sync: <strong>{formatDateTime(stats.data.lastSyncAt)}</strong>
            </p>
          </>
        )}
        {integration.data ? <WebhookUrl url={integration.data.webhookUrl} /> : null}
      </section>
      <EventList />
    </>
  );
}

function CountsBlock({ title, counts }: { title: string; counts: Counts }) {
  const items: [string, number, string][] = [
    ['Received', counts.received, ''],
    ['Processed', counts.processed, 'processed'],
    ['Failed', counts.failed, 'failed'],
    ['Pending', counts.pending, 'pending'],
  ];
  return (
    <div className="stat-group">
      <h3>{title}</h3>
      <dl className="stat-list" aria-label={`${title} counts`}>
        {items.map(([label, value, tone]) => (
          <div key={label} className={`stat ${tone ? `stat-${tone}` : ''}`}>
            <dt>{label}</dt>
            <dd data-testid={`${title.toLowerCase()}-${label.toLowerCase()}`}>{value}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

function WebhookUrl({ url }: { url: string }) {
  const id = useId();
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(url);
      setCopied('yes');
    } catch {
      const input = document.getElementById(id);
      if (input instanceof HTMLInputElement) input.select();
      setCopied('failed');
    }
  }
  return (
    <div className="field">
      <label htmlFor={id}>Webhook URL (paste it in Shopify)</label>
      <div className="input-group">
        <input id={id} readOnly value={url} onFocus={(e) => e.target.select()} />
        <button type="button" className="btn" onClick={() => void copy()}>
          Copy
        </button>
      </div>
      <p className="hint" role="status" aria-live="polite">
        {copied === 'yes'
          ? 'Copied to the clipboard.'
          : copied === 'failed'
            ? 'Press Ctrl+C to copy the selected URL.'
            : ''}
      </p>
    </div>
  );
}

function EventList() {
  const { workspace, isOwner } = useWorkspace();
  const workspaceId = workspace.id;
  // The filters live in the URL, so a filtered list can be shared and reloaded.
  const [path, navigate] = useLocation();
  const search = useSearch();
  const filters = parseEventFilters(search);
  const { status, topic, from, to } = filters;
  const setFilter = (change: Partial<Record<keyof EventFilters, string>>) =>
    navigate(`${path}${changeEventFilters(search, change)}`, { replace: true });
  const [knownTopics, setKnownTopics] = useState<string[]>([]);
  const events = useInfiniteQuery({
    ...trpc.events.list.infiniteQueryOptions(
      {
        workspaceId,
        limit: 25,
        ...(status ? { status } : {}),
        ...(topic ? { topic } : {}),
        ...(from ? { from: localMidnightIso(from) } : {}),
        ...(to ? { to: localMidnightIso(to, 1) } : {}),
      },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
    placeholderData: keepPreviousData,
    refetchInterval: 5_000,
  });
  const replay = useReplay();
  const items = events.data?.pages.flatMap((p) => p.items) ?? [];
  const topics = events.data?.pages[0]?.topics ?? knownTopics;
  if (topics !== knownTopics && topics.join() !== knownTopics.join()) setKnownTopics(topics);
  const filtered = hasEventFilters(filters);

  return (
    <section className="card" aria-labelledby="events-title">
      <h2 id="events-title">Recent events</h2>
      <EventFilterForm
        filters={filters}
        topics={knownTopics}
        onChange={setFilter}
        onClear={() => navigate(path, { replace: true })}
      />
      {replay.error ? <ErrorBox error={replay.error} /> : null}
      {events.isPending ? (
        <Loading label="Loading events…" />
      ) : events.error ? (
        <ErrorBox error={events.error} onRetry={() => void events.refetch()} />
      ) : items.length === 0 ? (
        <Empty title={filtered ? 'No events match these filters.' : 'No webhook events yet.'}>
          {filtered
            ? 'Change or clear the filters.'
            : 'Once the webhooks are registered, every order Shopify sends shows up here.'}
        </Empty>
      ) : (
        <>
          <EventTable items={items} isOwner={isOwner} replay={replay} workspaceId={workspaceId} />
          {events.hasNextPage ? (
            <button
              type="button"
              className="btn"
              disabled={events.isFetchingNextPage}
              onClick={() => void events.fetchNextPage()}
            >
              {events.isFetchingNextPage ? 'Loading…' : 'Load more'}
            </button>
          ) : (
            <p className="muted">
              {items.length === 1 ? '1 event' : `${items.length} events`} · end of the list
            </p>
          )}
        </>
      )}
    </section>
  );
}

/** The event filters; each change is written to the URL by `onChange`. */
function EventFilterForm({
  filters,
  topics,
  onChange,
  onClear,
}: {
  filters: EventFilters;
  topics: string[];
  onChange: (change: Partial<Record<keyof EventFilters, string>>) => void;
  onClear: () => void;
}) {
  const { status = '', topic = '', from = '', to = '' } = filters;
  return (
    <form className="filters" aria-label="Filter events" onSubmit={(e) => e.preventDefault()}>
      <Field label="Status">
        {(p) => (
          <select {...p} value={status} onChange={(e) => onChange({ status: e.target.value })}>
            <option value="">All</option>
            {EVENT_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Topic">
        {(p) => (
          <select {...p} value={topic} onChange={(e) => onChange({ topic: e.target.value })}>
            <option value="">All</option>
            {(topic && !topics.includes(topic) ? [topic, ...topics] : topics).map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label="Received from">
        {(p) => (
          <input
            {...p}
            type="date"
            value={from}
            max={to || undefined}
            onChange={(e) => onChange({ from: e.target.value })}
          />
        )}
      </Field>
      <Field label="Received to">
        {(p) => (
          <input
            {...p}
            type="date"
            value={to}
            min={from || undefined}
            onChange={(e) => onChange({ to: e.target.value })}
          />
        )}
      </Field>
      {hasEventFilters(filters) ? (
        <button type="button" className="btn btn-ghost" onClick={onClear}>
          Clear filters
        </button>
      ) : null}
    </form>
  );
}

type EventItem = RouterOutputs['events']['list']['items'][number];
type Replay = ReturnType<typeof useReplay>;

function useReplay() {
  return useMutation(trpc.events.replay.mutationOptions({ onSuccess: invalidateEvents }));
}

function EventTable({
  items,
  isOwner,
  replay,
  workspaceId,
}: {
  items: EventItem[];
  isOwner: boolean;
  replay: Replay;
  workspaceId: string;
}) {
  return (
    <div className="table-wrap">
      <table className="table" aria-describedby="events-title">
        <thead>
          <tr>
            <th scope="col">Received</th>
            <th scope="col">Topic</th>
            <th scope="col">Status</th>
            <th scope="col">Shopify order</th>
            <th scope="col">Attempts</th>
            <th scope="col">Error / note</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {items.map((e) => (
            <tr key={e.id} data-event-id={e.id}>
              <td className="nowrap">{formatDateTime(e.receivedAt)}</td>
              <td>{e.topic}</td>
              <td>
                <StatusBadge status={e.status} />
              </td>
              <td className="mono">{e.shopifyOrderId ?? '—'}</td>
              <td>{e.attempts}</td>
              <td className="error-cell">{e.lastError ?? e.note ?? ''}</td>
              <td className="nowrap">
                <div className="actions">
                  <Link href={eventPath(e.id)}>
                    Details
                    <span className="sr-only">
                      {' '}
                      of the {e.topic} event received {formatDateTime(e.receivedAt)}
                    </span>
                  </Link>
                  {e.status === 'failed' ? (
                    <button
                      type="button"
                      className="btn btn-small"
                      disabled={!isOwner || (replay.isPending && replay.variables?.eventId === e.id)}
                      title={!isOwner ? REPLAY_READ_ONLY : undefined}
                      onClick={() => replay.mutate({ workspaceId, eventId: e.id })}
                    >
                      Replay
                    </button>
                  ) : null}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
