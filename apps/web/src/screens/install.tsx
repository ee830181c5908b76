/**
 * An install that started on Shopify's side (App Store, install link): the server checked Shopify's
 * signature on the app URL (`/shopify/install`) and sent the browser here with the shop. The person
 * is signed in by now (the sign-in form keeps this address), picks a workspace they own, and goes on
 * to Shopify's grant screen; the callback lands on that workspace's integration page.
 */
import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { Link, useSearch } from 'wouter';
import { errorMessage } from '../errors.ts';
import { trpc } from '../trpc.ts';
import { Notice } from '../ui.tsx';
import type { Me } from '../workspace.tsx';

const REFUSAL: Record<string, string> = {
  not_configured:
    '"Connect with Shopify" is not set up on this server (SHOPIFY_API_KEY and SHOPIFY_API_SECRET).',
  bad_hmac:
    "This install link is not signed by Shopify with this app's secret. Start the install again from Shopify.",
  bad_shop: 'This install link is not for a myshopify.com store.',
  stale: 'This install link has expired. Start the install again from Shopify.',
};

export default function InstallPage({ me }: { me: Me }) {
  const params = new URLSearchParams(useSearch());
  const shop = params.get('shop') ?? '';
  const refused = params.get('error');
  const owned = me.workspaces.filter((w) => w.role === 'owner');
  const [workspaceId, setWorkspaceId] = useState(owned[0]?.id ?? '');
  const start = useMutation(trpc.integrations.startConnect.mutationOptions());

  if (refused || !shop) {
    return (
      <section className="card" aria-labelledby="page-title">
        <h1 id="page-title">Install from Shopify</h1>
        <Notice tone="error">{REFUSAL[refused ?? ''] ?? 'This install link is not valid.'}</Notice>
        <Link href="/">Go to your workspace</Link>
      </section>
    );
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const { authorizeUrl } = await start.mutateAsync({ workspaceId, shopDomain: shop });
    window.location.assign(authorizeUrl);
  }

  return (
    <section className="card" aria-labelledby="page-title">
      <h1 id="page-title">Connect {shop}</h1>
      <p>
        Shopify asks to install this app on <strong>{shop}</strong>. Choose the workspace whose orders it
        should sync; you then approve on Shopify's screen and come back to that workspace's integration.
      </p>
      {owned.length === 0 ? (
        <Notice tone="warning">
          You own no workspace. Only a workspace owner can connect a store: ask an owner to sign in and
          install the app from Shopify.
        </Notice>
      ) : (
        <form onSubmit={(e) => void submit(e)} aria-label="Choose a workspace">
          <fieldset>
            <legend>Workspace</legend>
            {owned.map((w) => (
              <label key={w.id} className="radio">
                <input
                  type="radio"
                  name="workspace"
                  value={w.id}
                  checked={workspaceId === w.id}
                  onChange={() => setWorkspaceId(w.id)}
                />{' '}
                {w.name}
              </label>
            ))}
          </fieldset>
          {start.error ? <Notice tone="error">{errorMessage(start.error)}</Notice> : null}
          <button type="submit" className="primary" disabled={!workspaceId || start.isPending}>
            Continue to Shopify
          </button>
        </form>
      )}
    </section>
  );
}
