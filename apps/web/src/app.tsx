import { useMutation, useQuery } from '@tanstack/react-query';
import { lazy, type ReactNode, Suspense, useEffect, useRef } from 'react';
import { Link, Redirect, Route, Switch, useLocation, useParams, useSearch } from 'wouter';
import { Login } from './login.tsx';
import {
  EVENT_ROUTE,
  HOME,
  isUuid,
  SECTIONS,
  sectionOf,
  WORKSPACE_ROUTE,
  withWorkspace,
  workspacePath,
} from './routes.ts';
import { isUnauthorized, trpc } from './trpc.ts';
import { ErrorBox, Loading } from './ui.tsx';
import {
  type Me,
  storedWorkspaceId,
  storeWorkspaceId,
  type Workspace,
  WorkspaceContext,
} from './workspace.tsx';

const IntegrationPage = lazy(() => import('./screens/integration.tsx'));
const SyncPage = lazy(() => import('./screens/sync.tsx'));
const EventPage = lazy(() => import('./screens/event.tsx'));
const ReconcilePage = lazy(() => import('./screens/reconcile.tsx'));
const ReviewsPage = lazy(() => import('./screens/reviews.tsx'));
const OrdersPage = lazy(() => import('./screens/orders.tsx'));
const InstallPage = lazy(() => import('./screens/install.tsx'));

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
  const data = me.data;
  return (
    <Switch>
      <Route path="/install">
        <Frame me={data} workspace={null}>
          <Page title="Install from Shopify">
            <Suspense fallback={<Loading />}>
              <InstallPage me={data} />
            </Suspense>
          </Page>
        </Frame>
      </Route>
      <Route path={WORKSPACE_ROUTE} nest>
        {(params) => <Shell me={data} workspaceId={params.workspaceId} />}
      </Route>
      <Route>
        <ToWorkspace me={data} />
      </Route>
    </Switch>
  );
}

const RANK = { owner: 0, admin: 1, agent: 2 } as const;

/** Without a remembered choice: the first workspace where the user has the highest role. */
function defaultWorkspace(me: Me): Workspace | null {
  const stored = me.workspaces.find((w) => w.id === storedWorkspaceId());
  if (stored) return stored;
  let best: Workspace | null = null;
  for (const w of me.workspaces) if (!best || RANK[w.role] < RANK[best.role]) best = w;
  return best;
}

/** A path without a workspace (`/`, an old `/sync` link): the same page of the remembered workspace. */
function ToWorkspace({ me }: { me: Me }) {
  const [path] = useLocation();
  const search = useSearch();
  const workspace = defaultWorkspace(me);
  if (!workspace) {
    return (
      <Frame me={me} workspace={null}>
        <section className="empty">
          <h1 id="page-title">No workspace</h1>
          <p>You are not a member of any workspace yet. Ask a workspace owner to invite you.</p>
        </section>
      </Frame>
    );
  }
  return <Redirect to={withWorkspace(workspace.id, path, search)} replace />;
}

function NotFound({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="empty" aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        {title}
      </h1>
      <p>{children}</p>
    </section>
  );
}

/** Sets the document title while a page is shown. */
function Page({ title, children }: { title: string; children: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Shopify sync`;
  }, [title]);
  return <>{children}</>;
}

function EventRoute() {
  const { eventId } = useParams<{ eventId: string }>();
  if (!isUuid(eventId)) return <PageNotFound />;
  return (
    <Page title="Event">
      <EventPage eventId={eventId} />
    </Page>
  );
}

function PageNotFound() {
  return (
    <Page title="Not found">
      <NotFound title="Page not found">
        <Link href={HOME}>Go to the integration</Link>
      </NotFound>
    </Page>
  );
}

const PAGES = {
  '/integration': <IntegrationPage />,
  '/sync': <SyncPage />,
  '/reconcile': <ReconcilePage />,
  '/reviews': <ReviewsPage />,
  '/orders': <OrdersPage />,
} as const satisfies Record<(typeof SECTIONS)[number]['path'], ReactNode>;

/** The pages of one workspace; paths here are relative to `/w/<workspace id>`. */
function Pages() {
  return (
    <Switch>
      {SECTIONS.map((s) => (
        <Route key={s.path} path={s.path}>
          <Page title={s.label}>{PAGES[s.path]}</Page>
        </Route>
      ))}
      <Route path={EVENT_ROUTE} component={EventRoute} />
      <Route path="/">
        <Redirect to={HOME} replace />
      </Route>
      <Route component={PageNotFound} />
    </Switch>
  );
}

function Shell({ me, workspaceId }: { me: Me; workspaceId: string }) {
  const workspace = me.workspaces.find((w) => w.id === workspaceId) ?? null;
  useEffect(() => {
    if (workspace) storeWorkspaceId(workspace.id);
  }, [workspace]);
  if (!workspace) {
    const fallback = defaultWorkspace(me);
    return (
      <Frame me={me} workspace={null}>
        <Page title="Workspace not found">
          <NotFound title="Workspace not found">
            This link is for a workspace you are not a member of.{' '}
            {fallback ? <Link href={`~${workspacePath(fallback.id)}`}>Go to {fallback.name}</Link> : null}
          </NotFound>
        </Page>
      </Frame>
    );
  }
  return (
    <Frame me={me} workspace={workspace}>
      <WorkspaceContext.Provider value={{ workspace, me }}>
        <Suspense fallback={<Loading />}>
          <div key={workspace.id}>
            <Pages />
          </div>
        </Suspense>
      </WorkspaceContext.Provider>
    </Frame>
  );
}

/** The top bar, the navigation and the main region around a page. */
function Frame({ me, workspace, children }: { me: Me; workspace: Workspace | null; children: ReactNode }) {
  const [path, navigate] = useLocation();
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      // A full reload drops every cached answer of this user.
      onSettled: () => window.location.assign('/'),
    }),
  );

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
        <Link className="brand" href={workspace ? HOME : '~/'}>
          <span className="brand-mark" aria-hidden="true">
            ◆
          </span>{' '}
          Shopify sync
        </Link>
        {me.workspaces.length > 0 ? (
          <div className="switcher">
            <label htmlFor="workspace-switcher">Workspace</label>
            <select
              id="workspace-switcher"
              value={workspace?.id ?? ''}
              onChange={(e) => {
                storeWorkspaceId(e.target.value);
                // The same section of the other workspace (an event or filters of this one mean nothing there).
                navigate(`~${workspacePath(e.target.value, (workspace && sectionOf(path)) || HOME)}`);
              }}
            >
              {workspace ? null : <option value="">Choose…</option>}
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
        {workspace ? (
          <nav className="sidenav" aria-label="Main">
            <ul>
              {SECTIONS.map((n) => (
                <li key={n.path}>
                  <Link href={n.path} aria-current={sectionOf(path) === n.path ? 'page' : undefined}>
                    {n.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        ) : null}
        <main id="main" className="content" tabIndex={-1}>
          {children}
        </main>
      </div>
    </>
  );
}
