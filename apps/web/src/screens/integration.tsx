/**
 * The integration page: how the store is connected (connection-card), the legacy credentials and the
 * settings (settings-form), the integration's state and its webhook subscriptions. Each part lives in
 * ./integration/; this file loads the data and lays them out.
 */
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { trpc } from '../trpc.ts';
import { ErrorBox, Loading, Notice, PageHeader } from '../ui.tsx';
import { useWorkspace } from '../workspace.tsx';
import { ConnectionCard } from './integration/connection-card.tsx';
import { READ_ONLY_REASON } from './integration/constants.ts';
import { IntegrationForm } from './integration/settings-form.tsx';
import { StateCard } from './integration/state-card.tsx';
import { WebhooksCard } from './integration/webhooks-card.tsx';

export default function IntegrationPage() {
  const { workspace } = useWorkspace();
  const input = { workspaceId: workspace.id };
  // Always fresh on arrival: the pipelines may have changed elsewhere in the CRM.
  const get = useQuery({ ...trpc.integrations.get.queryOptions(input), staleTime: 0 });
  // Kept here: saving reloads the integration, which re-creates the form with the saved values.
  const [justSaved, setJustSaved] = useState(false);
  const pipelines = useQuery({ ...trpc.pipelines.list.queryOptions(input), staleTime: 0 });

  if (get.isPending || pipelines.isPending) {
    return (
      <>
        <PageHeader title="Shopify integration" />
        <Loading />
      </>
    );
  }
  if (get.error || pipelines.error) {
    return (
      <>
        <PageHeader title="Shopify integration" />
        <ErrorBox
          error={get.error ?? pipelines.error}
          onRetry={() => {
            void get.refetch();
            void pipelines.refetch();
          }}
        />
      </>
    );
  }
  const { integration, canEdit, role, webhookUrl } = get.data;
  return (
    <>
      <PageHeader title="Shopify integration">
        {integration ? (
          <span className={`badge ${integration.isActive ? 'badge-processed' : 'badge-ignored'}`}>
            {integration.isActive ? 'Active' : 'Disabled'}
          </span>
        ) : (
          <span className="badge badge-pending">Not connected</span>
        )}
      </PageHeader>
      {!canEdit ? (
        <Notice tone="warning">
          <strong>Read-only.</strong> {READ_ONLY_REASON} You are {role === 'admin' ? 'an admin' : 'an agent'}{' '}
          in {workspace.name}.
        </Notice>
      ) : null}
      {!integration && !canEdit ? (
        <Notice>
          This workspace has no Shopify store connected yet. Ask the workspace owner to connect it.
        </Notice>
      ) : null}
      <ConnectionCard data={get.data} />
      {integration || canEdit ? (
        <IntegrationForm
          key={`${integration?.id ?? 'new'}-${integration?.updatedAt ?? ''}`}
          integration={integration}
          pipelines={pipelines.data}
          canEdit={canEdit}
          justSaved={justSaved}
          onSaved={setJustSaved}
        />
      ) : null}
      {integration ? (
        <>
          <StateCard integration={integration} canEdit={canEdit} />
          <WebhooksCard canEdit={canEdit} webhookUrl={webhookUrl} />
        </>
      ) : null}
    </>
  );
}
