-- The application logs in AS its roles, not as the superuser that migrates: a pool connected as the
-- superuser could always `RESET ROLE` or `SET ROLE postgres` out of app_user, so any injected SQL
-- would be a superuser. Logged in as app_user, the session user itself is app_user: it is a member
-- of no other role, so there is nothing to switch to. Passwords are set at runtime by the migrating
-- role (packages/db/src/role-pools.ts), never stored in a migration.
alter role app_user login;
alter role app_worker login;
alter role app_auth login;

-- Enqueueing a reconcile run from a user request: app_user has no rights on graphile-worker's
-- schema, so, like app.enqueue_webhook_event, a narrow function runs as the queue's owner and only
-- enqueues a run that exists, is queued, and belongs to a workspace the caller owns.
create or replace function app.enqueue_reconcile_run(p_run_id uuid) returns void
  language plpgsql volatile security definer
  set search_path = pg_catalog, public
  as $$
declare
  ws uuid;
begin
  select r.workspace_id into ws from public.reconcile_runs r where r.id = p_run_id and r.status = 'queued';
  if ws is null or not public.is_workspace_owner(ws) then
    raise exception 'enqueue_reconcile_run: no queued run % of a workspace you own', p_run_id
      using errcode = '42501';
  end if;
  perform graphile_worker.add_job(
    identifier => 'reconcile_orders',
    payload => json_build_object('runId', p_run_id, 'workspaceId', ws),
    max_attempts => 3,
    job_key => 'reconcile_run:' || p_run_id::text
  );
end
$$;

revoke all on function app.enqueue_reconcile_run(uuid) from public;
grant execute on function app.enqueue_reconcile_run(uuid) to app_user;
