/**
 * A Dev Dashboard app of the merchant's own organization: shop domain, client ID and client secret,
 * tested (client credentials grant) and saved in one step. A refusal lands on the field it names.
 */
import { type ClientCredentialsForm, clientCredentialsFormSchema } from '@crm/shopify/connection-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { placeServerError } from '../../errors.ts';
import { queryClient, trpc } from '../../trpc.ts';
import { Field, Notice } from '../../ui.tsx';
import { useWorkspace } from '../../workspace.tsx';
import type { Integration } from './form-values.ts';

const CC_FIELDS = ['shopDomain', 'clientId', 'clientSecret'] as const;

export function ClientCredentials({ integration }: { integration: Integration | null }) {
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
      const { field, message } = placeServerError(error, CC_FIELDS);
      form.setError(field, { type: 'server', message });
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
