import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { errorCode, errorMessage, fieldErrors } from '../errors.ts';
import { formatDate, formatDateTime, localDateInput, localMidnightIso } from '../format.ts';
import { queryClient, type RouterOutputs, trpc } from '../trpc.ts';
import { Empty, ErrorBox, Field, Loading, Notice, PageHeader, StatusBadge } from '../ui.tsx';
import { useWorkspace } from '../workspace.tsx';

type Run = RouterOutputs['reconcile']['status'];
const READ_ONLY = 'Only the workspace owner can start a reconcile run.';

function weekAgo(): string {
  const d = new Date();
  d.setDate(d.getDate() - 7);
  return localDateInput(d);
}

/** The history (polled while a run is unfinished) and the run shown: the one just started, else the latest. */
function useRuns(workspaceId: string, runId: string | null) {
  const runs = useQuery({
    ...trpc.reconcile.list.queryOptions({ workspaceId, limit: 10 }),
    refetchInterval: (q) => (q.state.data?.some((r) => !r.done) ? 2_000 : false),
  });
  const current = runId ?? runs.data?.[0]?.id ?? null;
  const status = useQuery({
    ...trpc.reconcile.status.queryOptions({ workspaceId, runId: current ?? '' }),
    enabled: current !== null,
    refetchInterval: (q) => (q.state.data?.done ? false : 1_000),
  });
  // When a run finishes, refresh the history and the orders.
  const done = status.data?.done ?? false;
  const [seenDone, setSeenDone] = useState<string | null>(null);
  if (done && status.data && seenDone !== status.data.id + status.data.status) {
    setSeenDone(status.data.id + status.data.status);
    void queryClient.invalidateQueries({
      queryKey: trpc.reconcile.list.queryKey({ workspaceId, limit: 10 }),
    });
    void queryClient.invalidateQueries({ queryKey: trpc.orders.pathKey() });
  }
  return { runs, current, status };
}

export default function ReconcilePage() {
  const { workspace } = useWorkspace();
  const workspaceId = workspace.id;
  const [runId, setRunId] = useState<string | null>(null);
  const { runs, current, status } = useRuns(workspaceId, runId);
  const running = status.data !== undefined && !status.data.done && runId !== null;

  return (
    <>
      <PageHeader title="Reconcile" />
      <p className="lead">
        Import the store's orders updated since a date, through the Shopify Admin API. Orders that webhooks
        missed are created; the others are brought up to date. Nothing is imported twice.
      </p>
      <StartRunForm running={running} onStarted={setRunId} />

      {current ? (
        <section className="card" aria-labelledby="progress-title">
          <h2 id="progress-title">{runId ? 'This run' : 'Latest run'}</h2>
          {status.isPending ? (
            <Loading />
          ) : status.error ? (
            <ErrorBox error={status.error} onRetry={() => void status.refetch()} />
          ) : (
            <RunProgress run={status.data} />
          )}
        </section>
      ) : null}

      <section className="card" aria-labelledby="history-title">
        <h2 id="history-title">Recent runs</h2>
        {runs.isPending ? (
          <Loading />
        ) : runs.error ? (
          <ErrorBox error={runs.error} onRetry={() => void runs.refetch()} />
        ) : runs.data.length === 0 ? (
          <Empty title="No reconcile runs yet." />
        ) : (
          <RunHistory runs={runs.data} />
        )}
      </section>
    </>
  );
}

/** The owner's "Start a run" form: a start date not in the future, checked here and by the server. */
function StartRunForm({ running, onStarted }: { running: boolean; onStarted: (runId: string) => void }) {
  const { workspace, isOwner } = useWorkspace();
  const workspaceId = workspace.id;
  const [since, setSince] = useState(weekAgo);
  const [localError, setLocalError] = useState<string | null>(null);
  const start = useMutation(
    trpc.reconcile.start.mutationOptions({
      onSuccess: ({ runId }) => {
        onStarted(runId);
        void queryClient.invalidateQueries({
          queryKey: trpc.reconcile.list.queryKey({ workspaceId, limit: 10 }),
        });
      },
    }),
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!since) {
      setLocalError('Choose the date to import orders from.');
      return;
    }
    if (since > localDateInput(new Date())) {
      setLocalError('Choose a start date that is not in the future.');
      return;
    }
    setLocalError(null);
    start.mutate({ workspaceId, since: localMidnightIso(since) });
  }

  const serverFieldError = fieldErrors(start.error).since;
  const startCode = errorCode(start.error);
  const sinceError =
    localError ??
    serverFieldError ??
    (start.error && startCode === 'BAD_REQUEST' ? errorMessage(start.error) : undefined);

  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="start-title">
      <h2 id="start-title">Start a run</h2>
      {!isOwner ? <Notice tone="warning">{READ_ONLY}</Notice> : null}
      <fieldset className="plain row-fields" disabled={!isOwner}>
        <legend className="sr-only">Reconcile options</legend>
        <Field label="Orders updated since" error={sinceError}>
          {(p) => (
            <input
              {...p}
              type="date"
              value={since}
              max={localDateInput(new Date())}
              onChange={(e) => setSince(e.target.value)}
            />
          )}
        </Field>
        <button type="submit" className="btn btn-primary" disabled={start.isPending || running}>
          {start.isPending ? 'Starting…' : 'Start reconcile'}
        </button>
      </fieldset>
      {start.error && !sinceError ? <ErrorBox error={start.error} /> : null}
    </form>
  );
}

function RunHistory({ runs }: { runs: RouterOutputs['reconcile']['list'] }) {
  return (
    <div className="table-wrap">
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Since</th>
            <th scope="col">Status</th>
            <th scope="col">Seen</th>
            <th scope="col">Created</th>
            <th scope="col">Updated</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((r) => (
            <tr key={r.id}>
              <td className="nowrap">{formatDateTime(r.createdAt)}</td>
              <td className="nowrap">{formatDate(r.since)}</td>
              <td>
                <StatusBadge status={r.status} />
              </td>
              <td>{r.ordersSeen}</td>
              <td>{r.ordersCreated}</td>
              <td>{r.ordersUpdated}</td>
              <td className="error-cell">{r.error ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RunProgress({ run }: { run: Run }) {
  const label =
    run.status === 'queued'
      ? 'Waiting to start…'
      : run.status === 'running'
        ? `Importing… page ${run.pages}`
        : run.status === 'succeeded'
          ? 'Finished'
          : 'Failed';
  return (
    <div>
      <div className="progress-head">
        <span id="run-label">{label}</span>
        <StatusBadge status={run.status} />
      </div>
      {/* Shopify does not say how many orders there are: the bar is indeterminate until the run ends. */}
      <progress
        className={`progress progress-${run.status}`}
        aria-labelledby="run-label"
        max={1}
        {...(run.done ? { value: 1 } : {})}
      />
      <p role="status" aria-live="polite" className="progress-counts">
        {run.pages} {run.pages === 1 ? 'page' : 'pages'} · {run.ordersSeen} orders seen · {run.ordersCreated}{' '}
        created · {run.ordersUpdated} updated
      </p>
      <p className="muted">
        Since {formatDate(run.since)} · started {formatDateTime(run.startedAt ?? run.createdAt)}
        {run.finishedAt ? ` · finished ${formatDateTime(run.finishedAt)}` : ''}
      </p>
      {run.error ? <Notice tone="error">{run.error}</Notice> : null}
      {run.status === 'succeeded' ? (
        <Notice tone="success">
          {run.ordersCreated === 0
            ? 'No missing orders: the CRM already had every order.'
            : `${run.ordersCreated} missing ${run.ordersCreated === 1 ? 'order' : 'orders'} imported.`}
        </Notice>
      ) : null}
    </div>
  );
}
