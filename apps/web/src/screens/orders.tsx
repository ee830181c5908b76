import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useLocation, useSearch } from 'wouter';
import { formatDateTime, formatMoney, subtractMoney } from '../format.ts';
import {
  changeTestOrderFilter,
  parseTestOrderFilter,
  TEST_ORDER_FILTERS,
  type TestOrderFilter,
} from '../routes.ts';
import { type RouterOutputs, trpc } from '../trpc.ts';
import { Empty, ErrorBox, Field, Loading, PageHeader } from '../ui.tsx';
import { useWorkspace } from '../workspace.tsx';

type Order = RouterOutputs['orders']['list']['items'][number];
const TEST_ORDER_LABELS: Record<TestOrderFilter, string> = {
  include: 'Shown',
  exclude: 'Hidden',
  only: 'Only test orders',
};

export default function OrdersPage() {
  const { workspace } = useWorkspace();
  const workspaceId = workspace.id;
  const pipelines = useQuery(trpc.pipelines.list.queryOptions({ workspaceId }));
  const [chosen, setChosen] = useState<string>('');
  // The test-order filter lives in the URL (?test=exclude|only), so a filtered board can be shared.
  const testOrders = parseTestOrderFilter(useSearch());
  const pipelineId = chosen || pipelines.data?.[0]?.id || '';
  const pipeline = pipelines.data?.find((p) => p.id === pipelineId) ?? null;
  const orders = useInfiniteQuery({
    ...trpc.orders.list.infiniteQueryOptions(
      { workspaceId, pipelineId, testOrders, limit: 100 },
      { getNextPageParam: (page) => page.nextCursor ?? undefined },
    ),
    enabled: pipelineId !== '',
    placeholderData: keepPreviousData,
    refetchInterval: 10_000,
  });
  const items = orders.data?.pages.flatMap((p) => p.items) ?? [];

  return (
    <>
      <PageHeader title="Orders">
        <TestOrdersField value={testOrders} />
        {pipelines.data && pipelines.data.length > 1 ? (
          <div className="inline-field">
            <Field label="Pipeline">
              {(p) => (
                <select {...p} value={pipelineId} onChange={(e) => setChosen(e.target.value)}>
                  {pipelines.data.map((pl) => (
                    <option key={pl.id} value={pl.id}>
                      {pl.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </div>
        ) : pipeline ? (
          <span className="muted">{pipeline.name}</span>
        ) : null}
      </PageHeader>
      {pipelines.isPending || (orders.isPending && pipelineId) ? (
        <Loading label="Loading orders…" />
      ) : pipelines.error ? (
        <ErrorBox error={pipelines.error} onRetry={() => void pipelines.refetch()} />
      ) : !pipeline ? (
        <Empty title="No pipelines in this workspace yet." />
      ) : orders.error ? (
        <ErrorBox error={orders.error} onRetry={() => void orders.refetch()} />
      ) : items.length === 0 ? (
        <Empty title="No orders in this pipeline yet.">
          Orders from Shopify appear here as soon as they are imported.
        </Empty>
      ) : (
        <>
          <div className="board">
            {pipeline.stages.map((stage) => {
              const inStage = items.filter((o) => o.stageId === stage.id);
              return (
                <section key={stage.id} className="column" aria-labelledby={`stage-${stage.id}`}>
                  <h2 id={`stage-${stage.id}`} className="column-title">
                    {stage.name} <span className="count">{inStage.length}</span>
                  </h2>
                  {inStage.length === 0 ? (
                    <p className="muted column-empty">No orders</p>
                  ) : (
                    <ul className="order-list">
                      {inStage.map((o) => (
                        <li key={o.id}>
                          <OrderCard order={o} />
                        </li>
                      ))}
                    </ul>
                  )}
                </section>
              );
            })}
          </div>
          {orders.hasNextPage ? (
            <button
              type="button"
              className="btn"
              disabled={orders.isFetchingNextPage}
              onClick={() => void orders.fetchNextPage()}
            >
              {orders.isFetchingNextPage ? 'Loading…' : 'Load more orders'}
            </button>
          ) : null}
        </>
      )}
    </>
  );
}

/** The test-order filter: changing it rewrites the URL's `test` parameter (the board follows the URL). */
function TestOrdersField({ value }: { value: TestOrderFilter }) {
  const [path, navigate] = useLocation();
  const search = useSearch();
  const setTestOrders = (filter: TestOrderFilter) =>
    navigate(`${path}${changeTestOrderFilter(search, filter)}`, { replace: true });
  return (
    <div className="inline-field">
      <Field label="Test orders">
        {(p) => (
          <select
            {...p}
            value={value}
            onChange={(e) => setTestOrders(parseTestOrderFilter(`test=${e.target.value}`))}
          >
            {TEST_ORDER_FILTERS.map((f) => (
              <option key={f} value={f}>
                {TEST_ORDER_LABELS[f]}
              </option>
            ))}
          </select>
        )}
      </Field>
    </div>
  );
}

function OrderCard({ order }: { order: Order }) {
  const unmatched = order.lines.filter((l) => !l.matched).length;
  const money = (v: string) => formatMoney(v, order.currency);
  const refunded =
    order.originalTotal !== null && order.originalTotal !== order.totalValue
      ? subtractMoney(order.originalTotal, order.totalValue)
      : null;
  return (
    <article
      className={order.isTest ? 'order-card order-test' : 'order-card'}
      aria-label={`Order ${order.shopifyOrderName ?? order.id}`}
    >
      <header className="order-head">
        <strong className="order-name">{order.shopifyOrderName ?? 'Manual order'}</strong>
        <span className="order-total" title="Due for the goods, after discounts and refunds">
          {money(order.totalValue)}
        </span>
      </header>
      {order.isTest ? (
        <p>
          <span className="badge badge-pending">Test order</span>
        </p>
      ) : null}
      {order.redactedAt ? (
        <p className="muted small order-redacted">
          Personal data erased at Shopify's request ({formatDateTime(order.redactedAt)})
        </p>
      ) : null}
      {refunded !== null && order.originalTotal !== null ? (
        <p className="small order-refund">
          Refunded {money(refunded)} of {money(order.originalTotal)}
        </p>
      ) : null}
      {order.presentmentCurrency && order.presentmentTotal ? (
        <p className="muted small">
          Goods in the customer's currency: {formatMoney(order.presentmentTotal, order.presentmentCurrency)}
        </p>
      ) : null}
      <p className="order-contact">{order.contact?.name ?? 'No contact'}</p>
      <p className="muted small">
        {[order.contact?.phone, order.shippingCity].filter(Boolean).join(' · ')}
        {order.financialStatus ? ` · ${order.financialStatus}` : ''}
      </p>
      {order.tags.length > 0 ? <p className="muted small">Tags: {order.tags.join(', ')}</p> : null}
      {order.cancelledAt ? (
        <p className="badge badge-failed">cancelled {formatDateTime(order.cancelledAt)}</p>
      ) : null}
      <details>
        <summary>
          {order.lines.length === 1 ? '1 line' : `${order.lines.length} lines`}
          {unmatched ? <span className="warn"> · {unmatched} without product</span> : null}
        </summary>
        <ul className="lines">
          {order.lines.map((l) => (
            <li key={l.id}>
              <span>
                {l.quantity} × {l.title}
              </span>{' '}
              <span className="muted mono">{l.sku}</span>
              {!l.matched ? <span className="badge badge-pending">no product matched</span> : null}
              {l.originalQuantity !== null && l.originalQuantity !== l.quantity ? (
                <span className="muted small">
                  {' '}
                  ({l.originalQuantity - l.quantity} of {l.originalQuantity} refunded)
                </span>
              ) : null}
              <span className="line-amount">
                {l.originalSubtotal !== null && l.originalSubtotal !== l.subtotal ? (
                  <del className="muted" title="Before refunds">
                    {money(l.originalSubtotal)}
                  </del>
                ) : null}{' '}
                {money(l.subtotal)}
              </span>
            </li>
          ))}
        </ul>
        {order.shopifyOrderId ? <p className="muted small mono">Shopify id {order.shopifyOrderId}</p> : null}
      </details>
    </article>
  );
}
