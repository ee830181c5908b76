import { useMutation, useQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { formatDateTime } from '../format.ts';
import { trpc } from '../trpc.ts';
import { ErrorBox, Loading, Notice, PageHeader, StatusBadge } from '../ui.tsx';
import { useWorkspace } from '../workspace.tsx';
import { invalidateEvents, REPLAY_READ_ONLY } from './sync.tsx';

function prettyJson(text: string): string {
  // Re-indent without parsing numbers (Shopify ids exceed 2^53 and JSON.parse would round them).
  let out = '';
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] ?? '';
    if (inString) {
      out += ch;
      if (ch === '\\') {
        out += text[i + 1] ?? '';
        i++;
      } else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') {
      inString = true;
      out += ch;
    } else if (ch === '{' || ch === '[') {
      const close = ch === '{' ? '}' : ']';
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j] ?? '')) j++;
      if (text[j] === close) {
        out += ch + close;
        i = j;
        continue;
      }
      depth++;
      out += `${ch}\n${'  '.repeat(depth)}`;
    } else if (ch === '}' || ch === ']') {
      depth = Math.max(0, depth - 1);
      out += `\n${'  '.repeat(depth)}${ch}`;
    } else if (ch === ',') {
      out += `,\n${'  '.repeat(depth)}`;
    } else if (ch === ':') {
      out += ': ';
    } else if (!/\s/.test(ch)) {
      out += ch;
    }
  }
  return out;
}

export default function EventPage({ eventId }: { eventId: string }) {
  const { workspace, isOwner } = useWorkspace();
  const workspaceId = workspace.id;
  const detail = useQuery({
    ...trpc.events.detail.queryOptions({ workspaceId, eventId }),
    refetchInterval: (q) => (q.state.data?.status === 'pending' ? 2_000 : false),
  });
  const replay = useMutation(trpc.events.replay.mutationOptions({ onSuccess: invalidateEvents }));
  const back = <Link href="/sync">← Back to sync status</Link>;
  if (detail.isPending)
    return (
      <>
        <PageHeader title="Event" />
        <Loading />
      </>
    );
  if (detail.error)
    return (
      <>
        <PageHeader title="Event" />
        <ErrorBox error={detail.error} onRetry={() => void detail.refetch()} />
        <p>{back}</p>
      </>
    );
  const e = detail.data;
  return (
    <>
      <p className="breadcrumb">{back}</p>
      <PageHeader title={`Event ${e.topic}`}>
        {e.status !== 'pending' ? (
          <button
            type="button"
            className={e.status === 'failed' ? 'btn btn-primary' : 'btn'}
            disabled={!isOwner || replay.isPending}
            onClick={() => replay.mutate({ workspaceId, eventId })}
          >
            {replay.isPending ? 'Replaying…' : 'Replay event'}
          </button>
        ) : null}
      </PageHeader>
      {!isOwner && e.status === 'failed' ? <p className="muted">{REPLAY_READ_ONLY}</p> : null}
      <div role="status" aria-live="polite">
        {replay.isSuccess && e.status === 'pending' ? <Notice>Queued again; processing…</Notice> : null}
        {replay.isSuccess && e.status === 'processed' ? (
          <Notice tone="success">Replayed: processed.</Notice>
        ) : null}
      </div>
      {replay.error ? <ErrorBox error={replay.error} /> : null}
      <section className="card" aria-label="Event summary">
        <dl className="details">
          <dt>Status</dt>
          <dd>
            <StatusBadge status={e.status} />
          </dd>
          <dt>Topic</dt>
          <dd>{e.topic}</dd>
          <dt>Shop</dt>
          <dd>{e.shopDomain}</dd>
          <dt>Received</dt>
          <dd>{formatDateTime(e.receivedAt)}</dd>
          <dt>Processed</dt>
          <dd>{formatDateTime(e.processedAt)}</dd>
          <dt>Attempts</dt>
          <dd>{e.attempts}</dd>
          <dt>Shopify order id</dt>
          <dd className="mono">{e.shopifyOrderId ?? '—'}</dd>
          <dt>Webhook id</dt>
          <dd className="mono">{e.externalId}</dd>
          <dt>API version</dt>
          <dd>{e.apiVersion ?? '—'}</dd>
          <dt>Triggered at</dt>
          <dd>{formatDateTime(e.triggeredAt)}</dd>
        </dl>
      </section>
      {e.lastError ? (
        <section className="card" aria-labelledby="error-title">
          <h2 id="error-title">{e.status === 'ignored' ? 'Note' : 'Error'}</h2>
          <p className={e.status === 'failed' ? 'error-text' : ''}>{e.lastError}</p>
        </section>
      ) : null}
      {e.note && e.note !== e.lastError ? (
        <section className="card" aria-labelledby="note-title">
          <h2 id="note-title">What processing did</h2>
          <p className="event-note">{e.note}</p>
        </section>
      ) : null}
      <section className="card" aria-labelledby="payload-title">
        <h2 id="payload-title">Payload</h2>
        {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard */}
        <section className="payload" aria-label="Raw payload" tabIndex={0}>
          <pre>{prettyJson(e.payload)}</pre>
        </section>
      </section>
    </>
  );
}
