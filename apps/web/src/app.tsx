import { useMutation, useQuery } from '@tanstack/react-query';
import { lazy, type ReactNode, Suspense, useEffect, useRef, useState } from 'react';
import { Login } from './login.tsx';
import { linkHandler, navigate, useLocation } from './router.ts';
import { isUnauthorized, trpc } from './trpc.ts';
import { ErrorBox, Loading } from './ui.tsx';
import { type Me, storedWorkspaceId, storeWorkspaceId, WorkspaceContext } from './workspace.tsx';

const IntegrationPage = lazy(() => import('./screens/integration.tsx'));
const SyncPage = lazy(() => import('./screens/sync.tsx'));
const EventPage = lazy(() => import('./screens/event.tsx'));
const ReconcilePage = lazy(() => import('./screens/reconcile.tsx'));
const ReviewsPage = lazy(() => import('./screens/reviews.tsx'));
const OrdersPage = lazy(() => import('./screens/orders.tsx'));

const NAV = [
  { href: '/integration', label: 'Integration' },
  { href: '/sync', label: 'Sync status' },
  { href: '/reconcile', label: 'Reconcile' },
  { href: '/reviews', label: 'Contact reviews' },
  { href: '/orders', label: 'Orders' },
] as const;

export function App() {
  const me = useQuery({ ...trpc.auth.me.queryOptions(), retry: false, staleTime: 60_000 });
  if (me.isPending) {
    return (
      <main id="main" className="center">
        <Loading />
      </main>
    );
  }
  if (me.error) {
    if (isUnauthorized(me.error)) return <Login />;
    return (
      <main id="main" className="center">
        <ErrorBox error={me.error} onRetry={() => void me.refetch()} />
      </main>
    );
  }
  return <Shell me={me.data} />;
}

function route(path: string): { title: string; element: ReactNode } {
  const event = /^\/sync\/events\/([0-9a-f-]{36})$/i.exec(path);
  if (event?.[1]) return { title: 'Event', element: <EventPage eventId={event[1]} /> };
  switch (path) {
    case '/integration':
      return { title: 'Integration', element: <IntegrationPage /> };
    case '/sync':
      return { title: 'Sync status', element: <SyncPage /> };
    case '/reconcile':
      return { title: 'Reconcile', element: <ReconcilePage /> };
    case '/reviews':
      return { title: 'Contact reviews', element: <ReviewsPage /> };
    case '/orders':
      return { title: 'Orders', element: <OrdersPage /> };
    default:
      return {
        title: 'Not found',
        element: (
          <section className="empty" aria-labelledby="page-title">
            <h1 id="page-title" tabIndex={-1}>
              Page not found
            </h1>
            <p>
              <a href="/integration" onClick={linkHandler('/integration')}>
                Go to the integration
              </a>
            </p>
          </section>
        ),
      };
  }
}

const RANK = { owner: 0, admin: 1, agent: 2 } as const;

/** Without a remembered choice: the first workspace where the user has the highest role. */
function defaultWorkspace(me: Me): Me['workspaces'][number] | null {
  let best: Me['workspaces'][number] | null = null;
  for (const w of me.workspaces) if (!best || RANK[w.role] < RANK[best.role]) best = w;
  return best;
}

function Shell({ me }: { me: Me }) {
  const { path } = useLocation();
  const [workspaceId, setWorkspaceId] = useState<string | null>(() => storedWorkspaceId());
  const workspace = me.workspaces.find((w) => w.id === workspaceId) ?? defaultWorkspace(me);
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      // A full reload drops every cached answer of this user.
      onSettled: () => window.location.assign('/'),
    }),
  );

  useEffect(() => {
    if (path === '/') navigate('/integration', { replace: true });
  }, [path]);

  const current = route(path);
  useEffect(() => {
    document.title = `${current.title} · Shopify sync`;
  }, [current.title]);

  // After client-side navigation, move focus to the new page's heading.
  const first = useRef(true);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs on every path change by design
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const t = window.setTimeout(() => document.getElementById('page-title')?.focus(), 50);
    return () => window.clearTimeout(t);
  }, [path]);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <a className="brand" href="/integration" onClick={linkHandler('/integration')}>
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>{' '}
          Shopify sync
        </a>
        {me.workspaces.length > 0 && workspace ? (
          <div className="switcher">
            <label htmlFor="workspace-switcher">Workspace</label>
            <select
              id="workspace-switcher"
              value={workspace.id}
              onChange={(e) => {
                storeWorkspaceId(e.target.value);
                setWorkspaceId(e.target.value);
              }}
            >
              {me.workspaces.map((w) => (
                <option key={w.id} value={w.id}>
                  {w.name} ({w.role})
                </option>
              ))}
            </select>
          </div>
        ) : null}
        <div className="user">
          <span className="muted" title={me.user.email}>
            {me.user.name || me.user.email}
          </span>
          <button
            type="button"
            className="btn btn-small btn-ghost"
            onClick={() => logout.mutate()}
            disabled={logout.isPending}
          >
            Log out
          </button>
        </div>
      </header>
      <div className="layout">
        <nav className="sidenav" aria-label="Main">
          <ul>
            {NAV.map((n) => {
              const active = path === n.href || path.startsWith(`${n.href}/`);
              return (
                <li key={n.href}>
                  <a href={n.href} onClick={linkHandler(n.href)} aria-current={active ? 'page' : undefined}>
                    {n.label}
                  </a>
                </li>
              );
            })}
          </ul>
        </nav>
        <main id="main" className="content" tabIndex={-1}>
          {workspace ? (
            <WorkspaceContext.Provider value={{ workspace, me }}>
              <Suspense fallback={<Loading />}>
                <div key={workspace.id}>{current.element}</div>
              </Suspense>
            </WorkspaceContext.Provider>
          ) : (
            <section className="empty">
              <h1 id="page-title">No workspace</h1>
              <p>You are not a member of any workspace yet. Ask a workspace owner to invite you.</p>
            </section>
          )}
        </main>
      </div>
    </>
  );
}
