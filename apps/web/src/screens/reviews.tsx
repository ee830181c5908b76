import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { formatDate, formatDateTime, formatMoney } from '../format.ts';
import { queryClient, type RouterInputs, type RouterOutputs, trpc } from '../trpc.ts';
import { Empty, ErrorBox, Field, Loading, Notice, PageHeader } from '../ui.tsx';
import { useWorkspace } from '../workspace.tsx';

type Review = RouterOutputs['contactReviews']['list'][number];
type ReviewContact = NonNullable<Review['contact']>;
type ReviewStatus = NonNullable<RouterInputs['contactReviews']['list']['status']>;

type ReviewActions = {
  busy: boolean;
  merge: (reviewId: string) => void;
  ignore: (reviewId: string) => void;
};

/** Merge and ignore, with the sentence each leaves behind; both refresh the reviews and the orders. */
function useReviewActions(workspaceId: string, setDone: (text: string | null) => void) {
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: trpc.contactReviews.pathKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.orders.pathKey() });
  };
  const merge = useMutation(
    trpc.contactReviews.merge.mutationOptions({
      onSuccess: (r) => {
        setDone(
          `Merged. ${r.ordersMoved === 1 ? '1 order moved' : `${r.ordersMoved} orders moved`} to the existing contact.`,
        );
        refresh();
      },
    }),
  );
  const ignore = useMutation(
    trpc.contactReviews.ignore.mutationOptions({
      onSuccess: () => {
        setDone('Ignored: both contacts are kept.');
        refresh();
      },
    }),
  );
  const actions: ReviewActions = {
    busy: merge.isPending || ignore.isPending,
    merge: (reviewId) => {
      setDone(null);
      merge.mutate({ workspaceId, reviewId });
    },
    ignore: (reviewId) => {
      setDone(null);
      ignore.mutate({ workspaceId, reviewId });
    },
  };
  return { actions, errors: [merge.error, ignore.error] };
}

export default function ReviewsPage() {
  const { workspace } = useWorkspace();
  const workspaceId = workspace.id;
  const [status, setStatus] = useState<ReviewStatus>('pending');
  const [done, setDone] = useState<string | null>(null);
  const reviews = useQuery(trpc.contactReviews.list.queryOptions({ workspaceId, status, limit: 50 }));
  const { actions, errors } = useReviewActions(workspaceId, setDone);

  return (
    <>
      <PageHeader title="Contact reviews">
        <div className="inline-field">
          <Field label="Show">
            {(p) => (
              <select {...p} value={status} onChange={(e) => setStatus(e.target.value as ReviewStatus)}>
                <option value="pending">Pending</option>
                <option value="merged">Merged</option>
                <option value="ignored">Ignored</option>
              </select>
            )}
          </Field>
        </div>
      </PageHeader>
      <p className="lead">
        When a new order's customer looks like an existing contact (similar name in the same city, or a phone
        a digit or two apart), the order gets a new contact and the pair waits here. Merge keeps the existing
        contact and moves the order to it.
      </p>
      <div role="status" aria-live="polite">
        {done ? <Notice tone="success">{done}</Notice> : null}
      </div>
      {errors.map((error, i) =>
        error ? <ErrorBox key={i === 0 ? 'merge' : 'ignore'} error={error} /> : null,
      )}
      {reviews.isPending ? (
        <Loading label="Loading reviews…" />
      ) : reviews.error ? (
        <ErrorBox error={reviews.error} onRetry={() => void reviews.refetch()} />
      ) : reviews.data.length === 0 ? (
        <Empty title={status === 'pending' ? 'Nothing to review.' : `No ${status} reviews.`}>
          {status === 'pending' ? 'Possible duplicate contacts from Shopify orders show up here.' : null}
        </Empty>
      ) : (
        <ul className="review-list">
          {reviews.data.map((r) => (
            <li key={r.id}>
              <ReviewCard review={r} actions={actions} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/** One possible duplicate: why, the two contacts side by side, and merge / keep both while pending. */
function ReviewCard({ review: r, actions }: { review: Review; actions: ReviewActions }) {
  return (
    <article className="card review" aria-labelledby={`review-${r.id}`}>
      <header className="review-head">
        <h2 id={`review-${r.id}`}>
          {r.order?.shopifyOrderName ? `Order ${r.order.shopifyOrderName}` : 'Possible duplicate'}
          {r.order ? (
            <span className="muted"> · {formatMoney(r.order.totalValue, r.order.currency)}</span>
          ) : null}
        </h2>
        <span className="muted">{formatDateTime(r.createdAt)}</span>
      </header>
      <ul className="chips" aria-label="Why they may be the same person">
        {r.reasons.map((reason) => (
          <li key={reason} className="chip">
            {reason}
          </li>
        ))}
        {r.score ? <li className="chip chip-score">score {r.score}</li> : null}
      </ul>
      <div className="side-by-side">
        <ContactCard title="New contact from this order" contact={r.contact} />
        <ContactCard title="Existing contact" contact={r.candidate} />
      </div>
      {r.status === 'pending' ? (
        <div className="row">
          <button
            type="button"
            className="btn btn-primary"
            disabled={actions.busy || !r.contact || !r.candidate}
            onClick={() => actions.merge(r.id)}
          >
            Merge into existing contact
          </button>
          <button type="button" className="btn" disabled={actions.busy} onClick={() => actions.ignore(r.id)}>
            Keep both (ignore)
          </button>
        </div>
      ) : (
        <p className="muted">
          {r.status === 'merged' ? 'Merged' : 'Ignored'} {formatDateTime(r.resolvedAt)}
        </p>
      )}
    </article>
  );
}

function ContactCard({ title, contact }: { title: string; contact: ReviewContact | null }) {
  const rows: [string, string | null][] = contact
    ? [
        ['Phone', contact.phone],
        ['Other phone', contact.secondaryPhone],
        ['Email', contact.email],
        ['Address', contact.address],
        ['City', contact.city],
        ['Department', contact.department],
        ['Orders', String(contact.orderCount)],
        ['Created', formatDate(contact.createdAt)],
      ]
    : [];
  return (
    <section className="contact-card" aria-label={title}>
      <h3>{title}</h3>
      {contact ? (
        <>
          <p className="contact-name">{contact.name}</p>
          <dl className="details">
            {rows.map(([k, v]) => (
              <div key={k} className="details-row">
                <dt>{k}</dt>
                <dd>{v ?? '—'}</dd>
              </div>
            ))}
          </dl>
        </>
      ) : (
        <p className="muted">This contact no longer exists.</p>
      )}
    </section>
  );
}
