/**
 * How the store is connected: the method, the token's expiry and last renewal, "needs reconnection"
 * with its Reconnect action, Shopify's API version warnings, and (for the owner) the choice of the
 * two ways to connect a store made in the Dev Dashboard: "Connect with Shopify" and an app of the
 * merchant's own organization. The legacy custom app's token is in "Store and settings".
 */
import { formatDateTime } from '../../format.ts';
import type { RouterOutputs } from '../../trpc.ts';
import { Notice } from '../../ui.tsx';
import { ClientCredentials } from './client-credentials.tsx';
import { ConnectOutcome, ConnectWithShopify } from './connect-with-shopify.tsx';
import type { Integration } from './form-values.ts';

type IntegrationData = RouterOutputs['integrations']['get'];

const METHOD_LABEL: Record<Integration['connection']['method'], string> = {
  legacy: 'Legacy custom app (static access token)',
  client_credentials: 'Dev Dashboard app of your organization (client credentials)',
  oauth: 'Connect with Shopify',
};

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
      {canEdit ? <ConnectMethods data={data} /> : null}
    </section>
  );
}

/** The owner's ways to connect a store made in the Dev Dashboard (the legacy token is in the settings form). */
function ConnectMethods({ data }: { data: IntegrationData }) {
  const { integration } = data;
  const c = integration?.connection;
  return (
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
  );
}
