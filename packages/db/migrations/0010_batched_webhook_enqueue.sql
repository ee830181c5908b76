-- Deliveries stored together: the webhook route groups concurrent deliveries into one transaction
-- (one commit, one NOTIFY for N events and their jobs; see apps/api/src/webhooks/store.ts).
--
-- app.enqueue_webhook_events enqueues the processing jobs of many events of the workspace the caller
-- acts for with ONE graphile_worker.add_jobs call, hence one NOTIFY: a transaction that NOTIFYs
-- holds a cluster-wide lock through its commit, so one NOTIFY per delivery caps acks at the rate of
-- serialised commits. Same guarantees as app.enqueue_webhook_event (0004), which now delegates here
-- (and runs as its caller) so the job's shape is written once: the caller must act for a workspace, every job names that
-- workspace, and the worker loads the event as app_worker for it, so an id of another workspace's
-- event enqueues a job that finds nothing.
--
-- PL/pgSQL so that graphile_worker's schema (installed at startup, after these migrations) is
-- resolved when called, not when created.

create or replace function app.enqueue_webhook_events(p_event_ids uuid[]) returns integer
  language plpgsql volatile security definer
  set search_path = pg_catalog, public
  as $$
declare
  ws uuid := app.current_workspace_id();
  n integer := coalesce(cardinality(p_event_ids), 0);
begin
  if ws is null then
    raise exception 'enqueue_webhook_events: no workspace (app.workspace_id is not set)'
      using errcode = '42501';
  end if;
  if n = 0 then
    return 0;
  end if;
  -- The job key makes a second enqueue of a waiting job replace it instead of doubling it; a job
  -- that is running already gets a fresh successor (graphile-worker's job_key semantics).
  perform graphile_worker.add_jobs(
    array(
      select row(
        'process_webhook_event',
        json_build_object('eventId', e.id, 'workspaceId', ws),
        null,
        null,
        8,
        'webhook_event:' || e.id::text,
        null,
        null
      )::graphile_worker.job_spec
      from unnest(p_event_ids) as e(id)
    )
  );
  return n;
end
$$;

revoke all on function app.enqueue_webhook_events(uuid[]) from public;
grant execute on function app.enqueue_webhook_events(uuid[]) to app_worker;

-- The one-event form stays for requeues (replay); it needs no rights of its own any more.
create or replace function app.enqueue_webhook_event(p_event_id uuid) returns void
  language plpgsql volatile security invoker
  set search_path = pg_catalog, public
  as $$
begin
  perform app.enqueue_webhook_events(array[p_event_id]);
end
$$;
