/**
 * The store's webhook subscriptions: register every topic at this server's webhook URL, and check
 * them (re-creating any Shopify deleted after repeated delivery failures).
 */
import { useMutation } from '@tanstack/react-query';
import { queryClient, trpc } from '../../trpc.ts';
import { ErrorBox, Notice } from '../../ui.tsx';
import { useWorkspace } from '../../workspace.tsx';
import { READ_ONLY_REASON } from './constants.ts';

export function WebhooksCard({ canEdit, webhookUrl }: { canEdit: boolean; webhookUrl: string }) {
  const { workspace } = useWorkspace();
  const workspaceId = workspace.id;
  // Either call reaches Shopify, which may refuse the connection (needs reconnection) or answer with
  // another API version: the integration's card is read again, whatever the outcome.
  const onSettled = () =>
    queryClient.invalidateQueries({ queryKey: trpc.integrations.get.queryKey({ workspaceId }) });
  const register = useMutation(trpc.integrations.registerWebhooks.mutationOptions({ onSettled }));
  const health = useMutation(trpc.integrations.subscriptionHealth.mutationOptions({ onSettled }));
  return (
    <section className="card" aria-labelledby="webhooks-title">
      <h2 id="webhooks-title">Webhooks</h2>
      <p>
        Shopify sends orders to <code>{webhookUrl}</code>. Register the subscriptions on the store, and check
        them from time to time: Shopify deletes a subscription after repeated delivery failures.
      </p>
      <div className="row">
        <button
          type="button"
          className="btn"
          disabled={!canEdit || register.isPending}
          onClick={() => {
            health.reset();
            register.mutate({ workspaceId });
          }}
        >
          {register.isPending ? 'Registering…' : 'Register webhooks'}
        </button>
        <button
          type="button"
          className="btn"
          disabled={!canEdit || health.isPending}
          onClick={() => {
            register.reset();
            health.mutate({ workspaceId });
          }}
        >
          {health.isPending ? 'Checking…' : 'Check subscriptions'}
        </button>
        {!canEdit ? <span className="muted">{READ_ONLY_REASON}</span> : null}
      </div>
      <div role="status" aria-live="polite">
        {register.error ? <ErrorBox error={register.error} /> : null}
        {health.error ? <ErrorBox error={health.error} /> : null}
        {register.data ? (
          <>
            <Notice tone="success">
              {register.data.subscriptions.length} webhook subscriptions registered at{' '}
              <code>{register.data.address}</code>.
            </Notice>
            <ul className="chips">
              {register.data.subscriptions.map((s) => (
                <li key={s.id} className="chip">
                  {s.topic}
                </li>
              ))}
            </ul>
          </>
        ) : null}
        {health.data ? (
          <>
            <Notice tone={health.data.healthy ? 'success' : 'warning'}>
              {health.data.healthy
                ? 'Subscriptions are healthy.'
                : 'Some subscriptions are missing and could not be re-created.'}
            </Notice>
            <table className="table">
              <caption className="sr-only">Webhook subscriptions</caption>
              <thead>
                <tr>
                  <th scope="col">Topic</th>
                  <th scope="col">State</th>
                </tr>
              </thead>
              <tbody>
                {health.data.topics.map((t) => (
                  <tr key={t.topic}>
                    <td>{t.topic}</td>
                    <td>
                      {t.present ? (
                        <span className="badge badge-processed">subscribed</span>
                      ) : t.recreated ? (
                        <span className="badge badge-pending">was missing · re-created</span>
                      ) : (
                        <span className="badge badge-failed">missing</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ) : null}
      </div>
    </section>
  );
}
