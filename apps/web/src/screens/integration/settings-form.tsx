/**
 * "Store and settings": the legacy custom app's credentials with their connection test, and where
 * orders land and how they are matched. On react-hook-form with the zod schema of form-values.ts; a
 * server refusal lands beside the field it names (`data.field`), else on the form.
 */
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { FormProvider, type UseFormReturn, useForm, useWatch } from 'react-hook-form';
import { errorMessage, formFieldOf, placeServerError } from '../../errors.ts';
import { queryClient, trpc } from '../../trpc.ts';
import { Notice } from '../../ui.tsx';
import { useWorkspace } from '../../workspace.tsx';
import { READ_ONLY_REASON } from './constants.ts';
import { DestinationFields } from './destination-fields.tsx';
import {
  credentialsState,
  type Integration,
  type PassedTest,
  type Pipeline,
  SETTINGS_ERROR_FIELDS,
  type SettingsValues,
  settingsSchema,
  settingsValuesOf,
  TEST_FIELDS,
  toSaveInput,
  toTestInput,
} from './form-values.ts';
import { LegacyCredentialFields } from './legacy-fields.tsx';
import { MatchingFields } from './matching-fields.tsx';
import { TestConnectionPanel } from './test-connection.tsx';

type Form = UseFormReturn<SettingsValues>;

/** Puts a server refusal beside the field it names among `fields`, else on the form. */
function showServerError(form: Form, error: unknown, fields: readonly (keyof SettingsValues)[]): void {
  const { field, message } = placeServerError(error, fields);
  form.setError(field, { type: 'server', message });
}

/** "Test connection": checks the domain and token here, then asks Shopify through the API. */
function useConnectionTest(form: Form, workspaceId: string) {
  const [tested, setTested] = useState<PassedTest | null>(null);
  const test = useMutation(
    trpc.integrations.testConnection.mutationOptions({
      onMutate: () => setTested(null),
      onSuccess: (result, vars) =>
        setTested({ domain: vars.shopDomain ?? '', token: vars.accessToken ?? '', result }),
    }),
  );
  const run = async () => {
    form.clearErrors();
    if (!(await form.trigger([...TEST_FIELDS]))) return;
    const values = form.getValues();
    test.mutate(toTestInput(workspaceId, values), {
      onError: (error) => {
        // A refusal about no field of the test is told where the result shows.
        if (formFieldOf(error, TEST_FIELDS) !== 'root') showServerError(form, error, TEST_FIELDS);
      },
    });
  };
  const unplacedError =
    test.error && formFieldOf(test.error, TEST_FIELDS) === 'root' ? errorMessage(test.error) : null;
  return { tested, run, pending: test.isPending, unplacedError };
}

export function IntegrationForm({
  integration,
  pipelines,
  canEdit,
  justSaved,
  onSaved,
}: {
  integration: Integration | null;
  pipelines: Pipeline[];
  canEdit: boolean;
  justSaved: boolean;
  onSaved: (saved: boolean) => void;
}) {
  const { workspace } = useWorkspace();
  const workspaceId = workspace.id;
  const schema = useMemo(() => settingsSchema(integration), [integration]);
  const form = useForm<SettingsValues>({
    resolver: zodResolver(schema),
    defaultValues: settingsValuesOf(integration),
  });
  const test = useConnectionTest(form, workspaceId);
  const save = useMutation(
    trpc.integrations.save.mutationOptions({
      onSuccess: () => {
        onSaved(true);
        void queryClient.invalidateQueries({ queryKey: trpc.integrations.get.queryKey({ workspaceId }) });
      },
      onError: (error) => showServerError(form, error, SETTINGS_ERROR_FIELDS),
    }),
  );
  const [shopDomain, accessToken] = useWatch({ control: form.control, name: ['shopDomain', 'accessToken'] });
  const credentials = credentialsState(integration, { shopDomain, accessToken }, test.tested);

  const onSubmit = form.handleSubmit((values) => {
    if (!credentials.ready) return;
    save.mutate(toSaveInput(workspaceId, values, pipelines));
  });
  const rootError = form.formState.errors.root?.message;

  return (
    <FormProvider {...form}>
      <form
        className="card"
        onSubmit={(event) => {
          onSaved(false);
          void onSubmit(event);
        }}
        noValidate
        aria-labelledby="settings-title"
      >
        <h2 id="settings-title">Store and settings</h2>
        <fieldset disabled={!canEdit} className="plain">
          <legend className="sr-only">Shopify store settings</legend>
          <LegacyCredentialFields integration={integration} canEdit={canEdit} />
          <TestConnectionPanel
            canEdit={canEdit}
            pending={test.pending}
            onTest={() => void test.run()}
            result={test.tested?.result ?? null}
            unplacedError={test.unplacedError}
            storedTestedAt={credentials.storedOk ? (integration?.credentialsTestedAt ?? null) : null}
          />
          <h3>Where orders land</h3>
          <DestinationFields pipelines={pipelines} />
          <h3>Matching</h3>
          <MatchingFields />
        </fieldset>

        {rootError ? (
          <Notice tone="error" live>
            {rootError}
          </Notice>
        ) : null}
        {justSaved && !save.isPending && !save.error ? (
          <Notice tone="success" live>
            Saved.
          </Notice>
        ) : null}
        <div className="form-actions">
          <button
            type="submit"
            className="btn btn-primary"
            disabled={!canEdit || !credentials.ready || save.isPending}
            aria-describedby="save-help"
          >
            {save.isPending ? 'Saving…' : 'Save'}
          </button>
          <p id="save-help" className="muted">
            {!canEdit
              ? READ_ONLY_REASON
              : credentials.ready
                ? 'Credentials tested.'
                : 'Test the connection with this shop domain and token before saving.'}
          </p>
        </div>
      </form>
    </FormProvider>
  );
}
