/**
 * How the store is connected: the method, the token's expiry and last renewal, "needs
 * reconnection" with its Reconnect action, Shopify's API version warnings, and (for the owner) the
 * two ways to connect a store made in the Dev Dashboard: "Connect with Shopify" and an app of the
 * merchant's own organization (client ID and secret). Forms on react-hook-form with the zod schemas
 * the API validates with; a server refusal lands on the field it names (`data.field`).
 */
import {
  type ClientCredentialsForm,
  type ConnectForm,
  clientCredentialsFormSchema,
  connectFormSchema,
} from '@crm/shopify/connection-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { type FieldPath, type UseFormSetError, useForm } from 'react-hook-form';
import { useSearch } from 'wouter';
import { errorMessage, serverField } from '../errors.ts';
import { formatDateTime } from '../format.ts';
import { queryClient, type RouterOutputs, trpc } from '../trpc.ts';
import { Field, Notice } from '../ui.tsx';
import { useWorkspace } from '../workspace.tsx';

type IntegrationData = RouterOutputs['integrations']['get'];
type Integration = NonNullable<IntegrationData['integration']>;

const METHOD_LABEL: Record<Integration['connection']['method'], string> = {
  legacy: 'Legacy custom app (static access token)',
  client_credentials: 'Dev Dashboard app of your organization (client credentials)',
  oauth: 'Connect with Shopify',
};

/** Puts a server refusal on the field it names, else on the form. */
function showServerError<T extends Record<string, unknown>>(
  error: unknown,
  fields: readonly string[],
  setError: UseFormSetError<T>,
): void {
  const field = serverField(error)?.split('.').pop() ?? null;
  const target = field && fields.includes(field) ? field : 'root';
  setError(target as FieldPath<T>, { type: 'server', message: errorMessage(error) });
}

/** Why the OAuth callback refused (its `shopify_connect_error`), in words. */
const CONNECT_REFUSAL: Record<string, string> = {
  denied: 'The install was cancelled on Shopify: nothing changed.',
  bad_hmac: "Shopify's answer was not signed with this app's secret: nothing was stored. Try again.",
  bad_shop: 'Shopify answered for a shop that is not a myshopify.com store: nothing was stored.',
  stale: "Shopify's answer was too old (check this server's clock): nothing was stored. Try again.",
  not_signed_in: 'Your session ended before Shopify answered: sign in and connect again.',
  bad_state: 'That answer from Shopify was not for this session or was already used: connect again.',
  refused: 'Shopify refused to issue tokens for this install: connect again.',
  unreachable: 'Shopify could not be reached to finish the connection: try again.',
  missing_scope:
    'The app was installed without read_orders and read_customers: connect again and approve them.',
  not_configured: '"Connect with Shopify" is not set up on this server.',
};

/** What came back from Shopify's grant screen (the callback's redirect says it in the query). */
function ConnectOutcome() {
  const params = new URLSearchParams(useSearch());
  const refusal = params.get('shopify_connect_error');
  if (refusal) {
    return (
      <Notice tone="error" live>
        {CONNECT_REFUSAL[refusal] ?? 'The connection with Shopify failed: connect again.'}
      </Notice>
    );
  }
  return params.get('connected') === '1' ? (
    <Notice tone="success" live>
      Connected with Shopify.
    </Notice>
  ) : null;
}

export function ConnectionCard({ data }: { data: IntegrationData }) {
  const { integration, canEdit } = data;
  const c = integration?.connection;
  return (
    <section className="card" aria-labelledby="connection-title">
      <h2 id="connection-title">Connection</h2>
      <ConnectOutcome />
      {c ? (
        <dl className="facts">
          <dt>Connected as</dt>
          <dd data-testid="connection-method">{METHOD_LABEL[c.method]}</dd>
          {c.clientId ? (
            <>
              <dt>Client ID</dt>
              <dd>{c.clientId}</dd>
            </>
          ) : null}
          {c.method !== 'legacy' ? (
            <>
              <dt>Access token expires</dt>
              <dd>{c.accessTokenExpiresAt ? formatDateTime(c.accessTokenExpiresAt) : 'on first use'}</dd>
              <dt>Last renewed</dt>
              <dd>{c.tokenRenewedAt ? formatDateTime(c.tokenRenewedAt) : 'not yet'}</dd>
            </>
          ) : null}
        </dl>
      ) : null}
      {c?.needsReconnection ? (
        <Notice tone="error">
          <strong>Needs reconnection.</strong> {c.needsReconnectionReason} Webhooks are still received and
          processed meanwhile.
        </Notice>
      ) : null}
      {c?.apiWarning ? <Notice tone="warning">{c.apiWarning}</Notice> : null}
      {data.health?.deliveryApiWarning ? (
        <Notice tone="warning">{data.health.deliveryApiWarning}</Notice>
      ) : null}
      {data.health && data.health.ordersWithoutCustomer > 0 ? (
        <Notice tone="warning">
          <span data-testid="orders-without-customer">{data.health.ordersWithoutCustomer}</span>{' '}
          {data.health.ordersWithoutCustomer === 1 ? 'order' : 'orders'} arrived without customer details (no
          name, email or phone). If Shopify withholds protected customer data from the app, request it in the
          Dev Dashboard (the app → API access → Protected customer data: Name, Email, Phone, Address), then
          run "Test connection".
        </Notice>
      ) : null}
      {canEdit ? (
        <>
          {data.connectWithShopify ? (
            <ConnectWithShopify
              shopDomain={integration?.config.shopDomain ?? ''}
              reconnect={c?.needsReconnection === true || c?.method === 'oauth'}
              redirectUrl={data.oauthRedirectUrl}
            />
          ) : (
            <p className="hint">
              "Connect with Shopify" is not set up on this server (SHOPIFY_API_KEY and SHOPIFY_API_SECRET).
            </p>
          )}
          <ClientCredentials integration={integration} />
        </>
      ) : null}
    </section>
  );
}

function ConnectWithShopify({
  shopDomain,
  reconnect,
  redirectUrl,
}: {
  shopDomain: string;
  reconnect: boolean;
  redirectUrl: string;
}) {
  const { workspace } = useWorkspace();
  const form = useForm<ConnectForm>({
    resolver: zodResolver(connectFormSchema),
    defaultValues: { shopDomain },
  });
  const start = useMutation(trpc.integrations.startConnect.mutationOptions());
  const onSubmit = form.handleSubmit(async (values) => {
    try {
      const { authorizeUrl } = await start.mutateAsync({
        workspaceId: workspace.id,
        shopDomain: values.shopDomain,
      });
      window.location.assign(authorizeUrl);
    } catch (error) {
      showServerError(error, ['shopDomain'], form.setError);
    }
  });
  const err = form.formState.errors;
  return (
    <form onSubmit={onSubmit} noValidate aria-label="Connect with Shopify">
      <h3>Connect with Shopify</h3>
      <Field
        label="Shop domain"
        hint={`You approve on Shopify's screen and come back here. Redirect URL to allow-list: ${redirectUrl}`}
        error={err.shopDomain?.message}
      >
        {(p) => <input {...p} {...form.register('shopDomain')} placeholder="mystore.myshopify.com" />}
      </Field>
      {err.root ? <Notice tone="error">{err.root.message}</Notice> : null}
      <button type="submit" className="primary" disabled={start.isPending}>
        {reconnect ? 'Reconnect with Shopify' : 'Connect with Shopify'}
      </button>
    </form>
  );
}

const CC_FIELDS = ['shopDomain', 'clientId', 'clientSecret'] as const;

function ClientCredentials({ integration }: { integration: Integration | null }) {
  const { workspace } = useWorkspace();
  const workspaceId = workspace.id;
  const [tested, setTested] = useState<string | null>(null);
  const form = useForm<ClientCredentialsForm>({
    resolver: zodResolver(clientCredentialsFormSchema),
    defaultValues: {
      shopDomain: integration?.config.shopDomain ?? '',
      clientId: integration?.connection.clientId ?? '',
      clientSecret: '',
    },
  });
  const test = useMutation(trpc.integrations.testConnection.mutationOptions());
  const save = useMutation(
    trpc.integrations.save.mutationOptions({
      onSuccess: () =>
        queryClient.invalidateQueries({ queryKey: trpc.integrations.get.queryKey({ workspaceId }) }),
    }),
  );
  const onSubmit = form.handleSubmit(async (values) => {
    const credentials = { method: 'client_credentials' as const, ...values };
    try {
      const result = await test.mutateAsync({ workspaceId, ...credentials });
      if (!result.ok) {
        form.setError('root', { type: 'server', message: result.message });
        return;
      }
      setTested(
        `Connected to ${result.shopName}.${result.protectedDataHint ? ` ${result.protectedDataHint}` : ''}`,
      );
      const config = { ...(integration?.config ?? {}), shopDomain: values.shopDomain };
      await save.mutateAsync({ workspaceId, config, ...credentials });
      form.resetField('clientSecret');
    } catch (error) {
      showServerError(error, CC_FIELDS, form.setError);
    }
  });
  const err = form.formState.errors;
  return (
    <form onSubmit={onSubmit} noValidate aria-label="Dev Dashboard app">
      <h3>Dev Dashboard app of your organization</h3>
      <p className="hint">
        In the Dev Dashboard: the app → Settings shows its client ID and secret. Select the scopes read_orders
        and read_customers on its version and install it on the store first.
      </p>
      <Field label="Shop domain" error={err.shopDomain?.message}>
        {(p) => <input {...p} {...form.register('shopDomain')} placeholder="mystore.myshopify.com" />}
      </Field>
      <Field label="Client ID" error={err.clientId?.message}>
        {(p) => <input {...p} {...form.register('clientId')} autoComplete="off" />}
      </Field>
      <Field label="Client secret" error={err.clientSecret?.message}>
        {(p) => <input {...p} {...form.register('clientSecret')} type="password" autoComplete="off" />}
      </Field>
      {err.root ? <Notice tone="error">{err.root.message}</Notice> : null}
      {tested && !err.root ? <Notice tone="success">{tested}</Notice> : null}
      <button type="submit" disabled={test.isPending || save.isPending}>
        Test connection and save
      </button>
    </form>
  );
}
