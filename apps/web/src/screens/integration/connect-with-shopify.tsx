/**
 * "Connect with Shopify": the owner enters the shop domain and is sent to Shopify's grant screen;
 * coming back, the callback's answer (connected, or why not) is shown from the query string.
 */
import { type ConnectForm, connectFormSchema } from '@crm/shopify/connection-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { useSearch } from 'wouter';
import { placeServerError } from '../../errors.ts';
import { trpc } from '../../trpc.ts';
import { Field, Notice } from '../../ui.tsx';
import { useWorkspace } from '../../workspace.tsx';

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
export function ConnectOutcome() {
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

export function ConnectWithShopify({
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
      const { field, message } = placeServerError(error, ['shopDomain'] as const);
      form.setError(field, { type: 'server', message });
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
