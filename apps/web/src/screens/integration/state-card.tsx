/** The integration's state: enable or disable it, and delete it after a confirmation dialog. */
import { useMutation } from '@tanstack/react-query';
import { useRef } from 'react';
import { formatDateTime } from '../../format.ts';
import { queryClient, trpc } from '../../trpc.ts';
import { ErrorBox } from '../../ui.tsx';
import { useWorkspace } from '../../workspace.tsx';
import { READ_ONLY_REASON } from './constants.ts';
import type { Integration } from './form-values.ts';

export function StateCard({ integration, canEdit }: { integration: Integration; canEdit: boolean }) {
  const { workspace } = useWorkspace();
  const workspaceId = workspace.id;
  const dialog = useRef<HTMLDialogElement>(null);
  const invalidate = () =>
    queryClient.invalidateQueries({ queryKey: trpc.integrations.get.queryKey({ workspaceId }) });
  const setEnabled = useMutation(trpc.integrations.setEnabled.mutationOptions({ onSuccess: invalidate }));
  const remove = useMutation(
    trpc.integrations.delete.mutationOptions({
      onSuccess: () => {
        dialog.current?.close();
        void invalidate();
      },
    }),
  );
  return (
    <section className="card" aria-labelledby="state-title">
      <h2 id="state-title">Status</h2>
      <p>
        {integration.isActive
          ? 'Active: orders from this store are received and imported.'
          : 'Disabled: webhooks from this store are acknowledged and ignored.'}{' '}
        <span className="muted">Last sync: {formatDateTime(integration.lastSyncAt)}</span>
      </p>
      {setEnabled.error ? <ErrorBox error={setEnabled.error} /> : null}
      <div className="row">
        <button
          type="button"
          className="btn"
          disabled={!canEdit || setEnabled.isPending}
          onClick={() => setEnabled.mutate({ workspaceId, enabled: !integration.isActive })}
        >
          {integration.isActive ? 'Disable integration' : 'Enable integration'}
        </button>
        <button
          type="button"
          className="btn btn-danger"
          disabled={!canEdit}
          onClick={() => {
            remove.reset();
            dialog.current?.showModal();
          }}
        >
          Delete integration…
        </button>
        {!canEdit ? <span className="muted">{READ_ONLY_REASON}</span> : null}
      </div>
      <dialog ref={dialog} className="dialog" aria-labelledby="delete-title" aria-describedby="delete-desc">
        <h2 id="delete-title">Delete the Shopify integration?</h2>
        <p id="delete-desc">
          The connection to <strong>{integration.config.shopDomain}</strong>, its credentials and its event
          history are deleted. Orders already imported stay in the CRM. Webhooks from this store will be
          ignored.
        </p>
        {remove.error ? <ErrorBox error={remove.error} /> : null}
        <div className="row row-end">
          {/* biome-ignore lint/a11y/noAutofocus: the safe choice takes focus in a confirmation dialog */}
          <button type="button" className="btn" autoFocus onClick={() => dialog.current?.close()}>
            Cancel
          </button>
          <button
            type="button"
            className="btn btn-danger"
            disabled={remove.isPending}
            onClick={() => remove.mutate({ workspaceId })}
          >
            {remove.isPending ? 'Deleting…' : 'Delete integration'}
          </button>
        </div>
      </dialog>
    </section>
  );
}
