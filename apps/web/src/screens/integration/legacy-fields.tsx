/**
 * The legacy custom app's fields: display name, shop domain, Admin API access token and webhook
 * signing secret. The credentials are write-only: the page shows only whether one is stored and,
 * when long enough, its last 4 characters.
 */
import { useFormContext } from 'react-hook-form';
import { Field } from '../../ui.tsx';
import type { Integration, SettingsValues } from './form-values.ts';

type CredentialState = Integration['credentials']['accessToken'];

function credentialHint(state: CredentialState | undefined, what: string, canEdit: boolean) {
  if (!state?.set) return canEdit ? `Not set yet. Paste the ${what}.` : 'Not set yet.';
  if (!canEdit) return <span className="badge badge-processed">set · …{state.last4 ?? '????'}</span>;
  return (
    <>
      <span className="badge badge-processed">set · …{state.last4 ?? '????'}</span> Leave blank to keep it, or
      paste a new one.
    </>
  );
}

const storedPlaceholder = (state: CredentialState, otherwise: string) =>
  state.set ? `set · …${state.last4 ?? ''}` : otherwise;

export function LegacyCredentialFields({
  integration,
  canEdit,
}: {
  integration: Integration | null;
  canEdit: boolean;
}) {
  const { register, formState } = useFormContext<SettingsValues>();
  const errors = formState.errors;
  const stored = integration?.credentials;
  return (
    <div className="grid-2">
      <Field label="Display name" error={errors.name?.message}>
        {(p) => <input {...p} {...register('name')} maxLength={100} />}
      </Field>
      <Field
        label="Shop domain"
        hint="Your store's permanent address, e.g. my-store.myshopify.com"
        error={errors.shopDomain?.message}
      >
        {(p) => (
          <input
            {...p}
            {...register('shopDomain')}
            autoComplete="off"
            spellCheck={false}
            placeholder="my-store.myshopify.com"
          />
        )}
      </Field>
      <Field
        label="Admin API access token"
        hint={credentialHint(stored?.accessToken, 'Admin API access token of your custom app', canEdit)}
        error={errors.accessToken?.message}
      >
        {(p) => (
          <input
            {...p}
            {...register('accessToken')}
            type="password"
            autoComplete="new-password"
            spellCheck={false}
            placeholder={stored ? storedPlaceholder(stored.accessToken, 'shpat_…') : 'shpat_…'}
          />
        )}
      </Field>
      <Field
        label="Webhook signing secret"
        hint={credentialHint(stored?.webhookSecret, 'webhook signing secret', canEdit)}
        error={errors.webhookSecret?.message}
      >
        {(p) => (
          <input
            {...p}
            {...register('webhookSecret')}
            type="password"
            autoComplete="new-password"
            spellCheck={false}
            placeholder={stored ? storedPlaceholder(stored.webhookSecret, '') : ''}
          />
        )}
      </Field>
    </div>
  );
}
