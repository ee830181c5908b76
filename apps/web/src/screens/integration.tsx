import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useRef, useState } from 'react';
import { errorCode, errorMessage, fieldErrors } from '../errors.ts';
import { formatDateTime } from '../format.ts';
import { queryClient, type RouterInputs, type RouterOutputs, trpc } from '../trpc.ts';
import { ErrorBox, Field, Loading, Notice, PageHeader } from '../ui.tsx';
import { useWorkspace } from '../workspace.tsx';
import { ConnectionCard } from './integration-connection.tsx';

type IntegrationData = RouterOutputs['integrations']['get'];
type Integration = NonNullable<IntegrationData['integration']>;
type Pipeline = RouterOutputs['pipelines']['list'][number];
type SaveInput = RouterInputs['integrations']['save'];
type ProductMatching = NonNullable<SaveInput['config']['productMatching']>;
type TestResult = RouterOutputs['integrations']['testConnection'];

export const READ_ONLY_REASON = 'Only the workspace owner can change this integration.';

const COUNTRIES: [string, string][] = [
  ['AR', 'Argentina'],
  ['BO', 'Bolivia'],
  ['BR', 'Brazil'],
  ['CA', 'Canada'],
  ['CL', 'Chile'],
  ['CO', 'Colombia'],
  ['CR', 'Costa Rica'],
  ['DO', 'Dominican Republic'],
  ['EC', 'Ecuador'],
  ['ES', 'Spain'],
  ['GT', 'Guatemala'],
  ['MX', 'Mexico'],
  ['PA', 'Panama'],
  ['PE', 'Peru'],
  ['PY', 'Paraguay'],
  ['US', 'United States'],
  ['UY', 'Uruguay'],
  ['VE', 'Venezuela'],
];

const MATCHING: { value: ProductMatching; label: string; hint: string }[] = [
  { value: 'sku', label: 'SKU', hint: 'Exact SKU, ignoring case. Lines without a SKU stay unmatched.' },
  { value: 'name', label: 'Product name', hint: 'The most similar product title.' },
  { value: 'value', label: 'Price', hint: 'A product with the same price (within 0.01).' },
];

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

/** Which server message belongs next to which field. */
function fieldOfMessage(message: string): string {
  const m = message.toLowerCase();
  if (m.includes('shop domain') || m.includes('myshopify') || m.includes('store name')) return 'shopDomain';
  if (m.includes('connection test')) return 'test';
  if (m.includes('stage')) return 'stageId';
  if (m.includes('pipeline')) return 'pipelineId';
  if (m.includes('access token')) return 'accessToken';
  if (m.includes('signing secret')) return 'webhookSecret';
  return '';
}

function errorsOf(error: unknown): Record<string, string> {
  if (!error) return {};
  const fields = fieldErrors(error);
  if (Object.keys(fields).length > 0) return fields;
  const message = errorMessage(error);
  const code = errorCode(error);
  if (code === 'BAD_REQUEST' || code === 'PRECONDITION_FAILED') return { [fieldOfMessage(message)]: message };
  return { '': message };
}

function credentialHint(
  state: Integration['credentials']['accessToken'] | undefined,
  what: string,
  canEdit: boolean,
) {
  if (!state?.set) return canEdit ? `Not set yet. Paste the ${what}.` : 'Not set yet.';
  if (!canEdit) return <span className="badge badge-processed">set · …{state.last4 ?? '????'}</span>;
  return (
    <>
      <span className="badge badge-processed">set · …{state.last4 ?? '????'}</span> Leave blank to keep it, or
      paste a new one.
    </>
  );
}

function IntegrationForm({
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
  const stored = integration?.config;
  const [name, setName] = useState(integration?.name ?? 'Shopify');
  const [shopDomain, setShopDomain] = useState(stored?.shopDomain ?? '');
  const [accessToken, setAccessToken] = useState('');
  const [webhookSecret, setWebhookSecret] = useState('');
  const [chosenPipelineId, setPipelineId] = useState<string>(stored?.pipelineId ?? '');
  const [chosenStageId, setStageId] = useState<string>(stored?.stageId ?? '');
  // A pipeline (or stage) deleted elsewhere in the CRM is no choice at all: the field asks for another.
  const pipeline = pipelines.find((p) => p.id === chosenPipelineId) ?? null;
  const pipelineId = pipeline?.id ?? '';
  const stageId = pipeline?.stages.some((st) => st.id === chosenStageId) ? chosenStageId : '';
  const [productMatching, setProductMatching] = useState<ProductMatching>(stored?.productMatching ?? 'sku');
  const [fuzzyMatching, setFuzzyMatching] = useState(stored?.fuzzyMatching ?? true);
  const [autoCreateOrders, setAutoCreateOrders] = useState(stored?.autoCreateOrders ?? true);
  const [defaultPhoneCountry, setDefaultPhoneCountry] = useState(stored?.defaultPhoneCountry ?? 'CO');
  const [local, setLocal] = useState<Record<string, string>>({});
  const [tested, setTested] = useState<{ domain: string; token: string; result: TestResult } | null>(null);

  const test = useMutation(
    trpc.integrations.testConnection.mutationOptions({
      onSuccess: (result, vars) =>
        setTested({ domain: vars.shopDomain ?? '', token: vars.accessToken ?? '', result }),
      onMutate: () => setTested(null),
    }),
  );
  const save = useMutation(
    trpc.integrations.save.mutationOptions({
      onSuccess: () => {
        onSaved(true);
        void queryClient.invalidateQueries({ queryKey: trpc.integrations.get.queryKey({ workspaceId }) });
      },
    }),
  );

  const missingPipeline = chosenPipelineId !== '' && pipeline === null;

  // Save needs credentials that passed a test: the stored, tested ones, or the ones just tested.
  const domainUnchanged =
    integration !== null && shopDomain.trim().toLowerCase() === (stored?.shopDomain ?? '').toLowerCase();
  const storedCredsOk =
    integration !== null && accessToken === '' && domainUnchanged && integration.credentialsTestedAt !== null;
  const justTested =
    tested?.result.ok === true && tested.domain === shopDomain && tested.token === accessToken;
  const credentialsReady = storedCredsOk || justTested;

  const serverErrors = { ...errorsOf(save.error), ...errorsOf(test.error) };
  const errors: Record<string, string> = { ...serverErrors, ...local };

  function validate(forSave: boolean): Record<string, string> {
    const next: Record<string, string> = {};
    if (!shopDomain.trim())
      next.shopDomain = "Enter the store's Shopify domain, e.g. my-store.myshopify.com.";
    else if (/\s/.test(shopDomain.trim())) next.shopDomain = 'A shop domain has no spaces.';
    if (!integration?.credentials.accessToken.set && !accessToken.trim())
      next.accessToken = 'Paste the Admin API access token (starts with shpat_).';
    if (forSave) {
      if (!name.trim()) next.name = 'Give the integration a name.';
      if (!integration?.credentials.webhookSecret.set && !webhookSecret.trim())
        next.webhookSecret =
          'Paste the webhook signing secret from Shopify (Settings → Notifications → Webhooks).';
    }
    return next;
  }

  function runTest() {
    const next = validate(false);
    setLocal(next);
    save.reset();
    if (Object.keys(next).length > 0) return;
    test.mutate({
      workspaceId,
      shopDomain,
      ...(accessToken.trim() ? { accessToken } : {}),
    });
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    onSaved(false);
    const next = validate(true);
    setLocal(next);
    if (Object.keys(next).length > 0 || !credentialsReady) return;
    save.mutate({
      workspaceId,
      name: name.trim(),
      config: {
        shopDomain,
        pipelineId: pipelineId || null,
        stageId: stageId || null,
        productMatching,
        fuzzyMatching,
        autoCreateOrders,
        defaultPhoneCountry,
      },
      ...(accessToken.trim() ? { accessToken } : {}),
      ...(webhookSecret.trim() ? { webhookSecret } : {}),
    });
  }

  const testResult = tested?.result;
  return (
    <form className="card" onSubmit={submit} noValidate aria-labelledby="settings-title">
      <h2 id="settings-title">Store and settings</h2>
      <fieldset disabled={!canEdit} className="plain">
        <legend className="sr-only">Shopify store settings</legend>
        <div className="grid-2">
          <Field label="Display name" error={errors.name}>
            {(p) => (
              <input
                {...p}
                name="name"
                value={name}
                onChange={(e) => setName(e.target.value)}
                maxLength={100}
              />
            )}
          </Field>
          <Field
            label="Shop domain"
            hint="Your store's permanent address, e.g. my-store.myshopify.com"
            error={errors.shopDomain}
          >
            {(p) => (
              <input
                {...p}
                name="shopDomain"
                value={shopDomain}
                autoComplete="off"
                spellCheck={false}
                placeholder="my-store.myshopify.com"
                onChange={(e) => setShopDomain(e.target.value)}
              />
            )}
          </Field>
          <Field
            label="Admin API access token"
            hint={credentialHint(
              integration?.credentials.accessToken,
              'Admin API access token of your custom app',
              canEdit,
            )}
            error={errors.accessToken}
          >
            {(p) => (
              <input
                {...p}
                name="accessToken"
                type="password"
                autoComplete="new-password"
                spellCheck={false}
                value={accessToken}
                placeholder={
                  integration?.credentials.accessToken.set
                    ? `set · …${integration.credentials.accessToken.last4 ?? ''}`
                    : 'shpat_…'
                }
                onChange={(e) => setAccessToken(e.target.value)}
              />
            )}
          </Field>
          <Field
            label="Webhook signing secret"
            hint={credentialHint(integration?.credentials.webhookSecret, 'webhook signing secret', canEdit)}
            error={errors.webhookSecret}
          >
            {(p) => (
              <input
                {...p}
                name="webhookSecret"
                type="password"
                autoComplete="new-password"
                spellCheck={false}
                value={webhookSecret}
                placeholder={
                  integration?.credentials.webhookSecret.set
                    ? `set · …${integration.credentials.webhookSecret.last4 ?? ''}`
                    : ''
                }
                onChange={(e) => setWebhookSecret(e.target.value)}
              />
            )}
          </Field>
        </div>

        <div className="test-row">
          <button
            type="button"
            className="btn"
            onClick={runTest}
            disabled={!canEdit || test.isPending}
            aria-describedby="test-result"
          >
            {test.isPending ? 'Testing…' : 'Test connection'}
          </button>
          <div id="test-result" role="status" aria-live="polite" className="test-result">
            {testResult?.ok === true ? (
              <span className="ok">
                ✓ Connected to <strong>{testResult.shopName}</strong> ({testResult.shopDomain})
              </span>
            ) : testResult?.ok === false ? (
              <span className="bad">✗ Connection failed: {testResult.message}</span>
            ) : errors.test ? null : test.error && !errors.shopDomain && !errors.accessToken ? (
              <span className="bad">✗ {errorMessage(test.error)}</span>
            ) : storedCredsOk && integration?.credentialsTestedAt ? (
              <span className="muted">
                Stored credentials tested {formatDateTime(integration.credentialsTestedAt)}
              </span>
            ) : null}
          </div>
        </div>

        <h3>Where orders land</h3>
        <div className="grid-2">
          <Field
            label="Pipeline"
            error={
              errors.pipelineId ??
              (missingPipeline && !pipelineId
                ? 'The pipeline chosen before no longer exists. Choose another, then replay the failed events.'
                : undefined)
            }
            hint={
              !pipelineId && !missingPipeline
                ? 'Orders cannot be created until a pipeline is chosen.'
                : undefined
            }
          >
            {(p) => (
              <select
                {...p}
                name="pipelineId"
                value={pipelineId}
                onChange={(e) => {
                  setPipelineId(e.target.value);
                  setStageId('');
                }}
              >
                <option value="">Choose a pipeline…</option>
                {pipelines.map((pl) => (
                  <option key={pl.id} value={pl.id}>
                    {pl.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Stage" error={errors.stageId} hint="New orders start here.">
            {(p) => (
              <select
                {...p}
                name="stageId"
                value={stageId}
                disabled={!pipeline}
                onChange={(e) => setStageId(e.target.value)}
              >
                <option value="">
                  {pipeline ? `First stage (${pipeline.stages[0]?.name ?? 'none'})` : '—'}
                </option>
                {(pipeline?.stages ?? [])
                  .filter((s) => !s.isCancelled)
                  .map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.name}
                    </option>
                  ))}
              </select>
            )}
          </Field>
        </div>

        <h3>Matching</h3>
        <fieldset className="radios">
          <legend>Match order lines to products by</legend>
          {MATCHING.map((m) => (
            <label key={m.value} className="radio">
              <input
                type="radio"
                name="productMatching"
                value={m.value}
                checked={productMatching === m.value}
                onChange={() => setProductMatching(m.value)}
              />
              <span>
                <strong>{m.label}</strong> <span className="muted">— {m.hint}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <label className="check">
          <input
            type="checkbox"
            checked={fuzzyMatching}
            onChange={(e) => setFuzzyMatching(e.target.checked)}
          />
          <span>
            <strong>Fuzzy contact matching</strong>{' '}
            <span className="muted">
              — similar names in the same city go to Contact reviews, never merged silently
            </span>
          </span>
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={autoCreateOrders}
            onChange={(e) => setAutoCreateOrders(e.target.checked)}
          />
          <span>
            <strong>Create orders automatically</strong>{' '}
            <span className="muted">— off: events are recorded but no order is created</span>
          </span>
        </label>
        <div className="grid-2">
          <Field
            label="Default phone country"
            hint="For phone numbers written without a country code."
            error={errors.defaultPhoneCountry}
          >
            {(p) => (
              <select
                {...p}
                name="defaultPhoneCountry"
                value={defaultPhoneCountry}
                onChange={(e) => setDefaultPhoneCountry(e.target.value)}
              >
                {COUNTRIES.some(([c]) => c === defaultPhoneCountry) ? null : (
                  <option value={defaultPhoneCountry}>{defaultPhoneCountry}</option>
                )}
                {COUNTRIES.map(([code, label]) => (
                  <option key={code} value={code}>
                    {label} ({code})
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
      </fieldset>

      {errors[''] ? (
        <Notice tone="error" live>
          {errors['']}
        </Notice>
      ) : null}
      {errors.test ? (
        <Notice tone="error" live>
          {errors.test}
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
          disabled={!canEdit || !credentialsReady || save.isPending}
          aria-describedby="save-help"
        >
          {save.isPending ? 'Saving…' : 'Save'}
        </button>
        <p id="save-help" className="muted">
          {!canEdit
            ? READ_ONLY_REASON
            : credentialsReady
              ? 'Credentials tested.'
              : 'Test the connection with this shop domain and token before saving.'}
        </p>
      </div>
    </form>
  );
}

function StateCard({ integration, canEdit }: { integration: Integration; canEdit: boolean }) {
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

function WebhooksCard({ canEdit, webhookUrl }: { canEdit: boolean; webhookUrl: string }) {
  const { workspace } = useWorkspace();
  const workspaceId = workspace.id;
  const register = useMutation(trpc.integrations.registerWebhooks.mutationOptions());
  const health = useMutation(trpc.integrations.subscriptionHealth.mutationOptions());
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
