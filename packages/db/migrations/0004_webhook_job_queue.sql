-- The hand-off between the webhook route and the durable job queue (graphile-worker).
--
-- The route inserts a webhook event and enqueues its processing job in ONE transaction, as
-- `app_worker` acting for the workspace of the verified shop. `app_worker` gets no rights on the
-- queue's own schema (it could otherwise read, lock or delete any workspace's jobs): it may only call
-- this narrow function, which runs as the migrating role (the owner of graphile_worker's schema, since
-- the same role runs graphile-worker's migrations at startup) and can only enqueue a job that names
-- the workspace the caller acts for. The worker then loads the event as `app_worker` for that
-- workspace, so a job naming another workspace's event finds nothing.
--
-- graphile-worker's schema is installed by the application at startup, after these migrations: the
-- body is PL/pgSQL so that it is resolved when called, not when created.

create or replace function app.enqueue_webhook_event(p_event_id uuid) returns void
  language plpgsql volatile security definer
  set search_path = pg_catalog, public
  as $$
declare
  ws uuid := app.current_workspace_id();
begin
  if ws is null then
    raise exception 'enqueue_webhook_event: no workspace (app.workspace_id is not set)'
      using errcode = '42501';
  end if;
  -- The job key makes a second enqueue of a waiting job replace it instead of doubling it; a job
  -- that is running already gets a fresh successor (graphile-worker's job_key semantics).
  perform graphile_worker.add_job(
    identifier => 'process_webhook_event',
    payload => json_build_object('eventId', p_event_id, 'workspaceId', ws),
    max_attempts => 8,
    job_key => 'webhook_event:' || p_event_id::text
  );
end
$$;

revoke all on function app.enqueue_webhook_event(uuid) from public;
grant execute on function app.enqueue_webhook_event(uuid) to app_worker;

-- Product matching by value (price within 0.01) looks products up by price, per workspace.
create index if not exists products_workspace_price_idx on products (workspace_id, price) where is_active;
