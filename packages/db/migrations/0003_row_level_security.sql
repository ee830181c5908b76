-- Row-level security: the wall between tenants.
--
--   app_user   serves user requests (SET LOCAL ROLE + app.user_id); sees what the user's memberships allow
--   app_worker the webhook route and job workers (SET LOCAL ROLE + app.workspace_id); writes only the
--              workspace of the verified shop; reads integrations of every workspace to route webhooks
--   app_auth   login, sessions and throttling, before any user is known
--   app_rls    owns the membership helpers below; subject to RLS itself, it sees only the current
--              user's own memberships, so the helpers cannot reveal more than they check

-- Membership helpers ------------------------------------------------------------------------------

grant select on workspace_members to app_rls;
grant select on integrations to app_rls;

create function public.workspace_role(ws uuid) returns text
  language sql stable security definer
  set search_path = pg_catalog, public
  as $$
    select m.role from public.workspace_members m
    where m.workspace_id = ws and m.user_id = app.current_user_id()
  $$;

create function public.is_workspace_member(ws uuid) returns boolean
  language sql stable security definer
  set search_path = pg_catalog, public
  as $$ select coalesce(public.workspace_role(ws) in ('owner', 'admin', 'agent'), false) $$;

create function public.is_workspace_admin(ws uuid) returns boolean
  language sql stable security definer
  set search_path = pg_catalog, public
  as $$ select coalesce(public.workspace_role(ws) in ('owner', 'admin'), false) $$;

create function public.is_workspace_owner(ws uuid) returns boolean
  language sql stable security definer
  set search_path = pg_catalog, public
  as $$ select coalesce(public.workspace_role(ws) = 'owner', false) $$;

-- The workspace of an integration, for a member of that workspace; NULL for anyone else.
create function public.get_workspace_from_integration(integration uuid) returns uuid
  language sql stable security definer
  set search_path = pg_catalog, public
  as $$ select i.workspace_id from public.integrations i where i.id = integration $$;

-- Changing the owner needs CREATE on the schema for the new owner, only for the moment of the change.
grant create on schema public to app_rls;
alter function public.workspace_role(uuid) owner to app_rls;
alter function public.is_workspace_member(uuid) owner to app_rls;
alter function public.is_workspace_admin(uuid) owner to app_rls;
alter function public.is_workspace_owner(uuid) owner to app_rls;
alter function public.get_workspace_from_integration(uuid) owner to app_rls;
revoke create on schema public from app_rls;

revoke all on function public.workspace_role(uuid) from public;
revoke all on function public.is_workspace_member(uuid) from public;
revoke all on function public.is_workspace_admin(uuid) from public;
revoke all on function public.is_workspace_owner(uuid) from public;
revoke all on function public.get_workspace_from_integration(uuid) from public;
grant execute on function public.workspace_role(uuid) to app_user, app_worker, app_rls;
grant execute on function public.is_workspace_member(uuid) to app_user, app_worker, app_rls;
grant execute on function public.is_workspace_admin(uuid) to app_user, app_worker, app_rls;
grant execute on function public.is_workspace_owner(uuid) to app_user, app_worker, app_rls;
grant execute on function public.get_workspace_from_integration(uuid) to app_user, app_worker, app_rls;

-- Total-keeping triggers update orders for whoever writes lines.
grant execute on function app.order_total(uuid) to app_user, app_worker;

-- Enable and force RLS everywhere ------------------------------------------------------------------

do $$
declare
  t text;
begin
  foreach t in array array[
    'users', 'sessions', 'login_attempts', 'workspaces', 'workspace_members', 'contacts', 'pipelines',
    'pipeline_stages', 'products', 'integrations', 'orders', 'order_products', 'webhook_events',
    'contact_reviews', 'reconcile_runs'
  ] loop
    execute format('alter table public.%I enable row level security', t);
    execute format('alter table public.%I force row level security', t);
    execute format('revoke all on public.%I from public', t);
  end loop;
end
$$;

-- Auth path -----------------------------------------------------------------------------------------

grant select, insert, update, delete on users, sessions, login_attempts to app_auth;
grant select on workspace_members, workspaces to app_auth;
create policy auth_all on users to app_auth using (true) with check (true);
create policy auth_all on sessions to app_auth using (true) with check (true);
create policy auth_all on login_attempts to app_auth using (true) with check (true);
-- Login answers which workspaces a user belongs to.
create policy auth_select on workspace_members for select to app_auth using (true);
create policy auth_select on workspaces for select to app_auth using (true);

-- Users: a user sees themself and the people they share a workspace with; never a password hash.
grant select (id, email, name, created_at) on users to app_user;
create policy user_select on users for select to app_user using (
  id = app.current_user_id()
  or exists (
    select 1 from public.workspace_members m
    where m.user_id = users.id and public.is_workspace_member(m.workspace_id)
  )
);

-- Membership helpers see only the current user's own memberships.
create policy rls_helper_select on workspace_members for select to app_rls
  using (user_id = app.current_user_id());
create policy rls_helper_select on integrations for select to app_rls
  using (public.is_workspace_member(workspace_id));

-- Workspaces and members ----------------------------------------------------------------------------

grant select, update on workspaces to app_user;
create policy member_select on workspaces for select to app_user using (public.is_workspace_member(id));
create policy owner_update on workspaces for update to app_user
  using (public.is_workspace_owner(id)) with check (public.is_workspace_owner(id));

grant select, insert, update, delete on workspace_members to app_user;
create policy member_select on workspace_members for select to app_user
  using (public.is_workspace_member(workspace_id));
create policy owner_insert on workspace_members for insert to app_user
  with check (public.is_workspace_owner(workspace_id));
create policy owner_update on workspace_members for update to app_user
  using (public.is_workspace_owner(workspace_id)) with check (public.is_workspace_owner(workspace_id));
create policy owner_delete on workspace_members for delete to app_user
  using (public.is_workspace_owner(workspace_id));

grant select on workspaces to app_worker;
create policy worker_select on workspaces for select to app_worker using (id = app.current_workspace_id());

-- CRM tables: members read and write their own workspace; the worker its current workspace --------

do $$
declare
  t text;
begin
  foreach t in array array['contacts', 'pipelines', 'pipeline_stages', 'products', 'orders', 'order_products',
                           'contact_reviews'] loop
    execute format('grant select, insert, update, delete on public.%I to app_user, app_worker', t);
    execute format(
      'create policy member_all on public.%I to app_user
         using (public.is_workspace_member(workspace_id)) with check (public.is_workspace_member(workspace_id))',
      t);
    execute format(
      'create policy worker_all on public.%I to app_worker
         using (workspace_id = app.current_workspace_id()) with check (workspace_id = app.current_workspace_id())',
      t);
  end loop;
end
$$;

-- Integrations: members read; only the owner writes. The worker reads all (to route a webhook by
-- shop domain) and updates only its current workspace's row.

grant select, insert, update, delete on integrations to app_user;
create policy member_select on integrations for select to app_user using (public.is_workspace_member(workspace_id));
create policy owner_insert on integrations for insert to app_user with check (public.is_workspace_owner(workspace_id));
create policy owner_update on integrations for update to app_user
  using (public.is_workspace_owner(workspace_id)) with check (public.is_workspace_owner(workspace_id));
create policy owner_delete on integrations for delete to app_user using (public.is_workspace_owner(workspace_id));

grant select, update on integrations to app_worker;
create policy worker_route on integrations for select to app_worker using (true);
create policy worker_update on integrations for update to app_worker
  using (workspace_id = app.current_workspace_id()) with check (workspace_id = app.current_workspace_id());

-- Webhook events: members read; only the webhook/worker path writes.

grant select on webhook_events to app_user;
create policy member_select on webhook_events for select to app_user using (public.is_workspace_member(workspace_id));
grant select, insert, update, delete on webhook_events to app_worker;
create policy worker_all on webhook_events to app_worker
  using (workspace_id = app.current_workspace_id()) with check (workspace_id = app.current_workspace_id());

-- Reconcile runs: members read; the owner asks for one; the worker runs it.

grant select, insert on reconcile_runs to app_user;
create policy member_select on reconcile_runs for select to app_user using (public.is_workspace_member(workspace_id));
create policy owner_insert on reconcile_runs for insert to app_user with check (public.is_workspace_owner(workspace_id));
grant select, insert, update on reconcile_runs to app_worker;
create policy worker_all on reconcile_runs to app_worker
  using (workspace_id = app.current_workspace_id()) with check (workspace_id = app.current_workspace_id());
