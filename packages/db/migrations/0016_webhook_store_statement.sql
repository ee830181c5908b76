-- The webhook route's store: one statement for a group of deliveries, and their jobs inserted lean.
--
-- app.enqueue_new_webhook_events inserts the jobs of events the caller has just inserted, in the
-- caller's transaction (so an ack still means the event and its job are committed together), as
-- graphile_worker.add_jobs would insert a job under a new job key: no named queue, due now, priority
-- 0, 8 attempts, key 'webhook_event:<event id>' (so that a replay through app.enqueue_webhook_event
-- replaces a waiting job instead of doubling it), then one NOTIFY on graphile-worker's channel with
-- the count, as add_jobs sends. It skips what add_jobs does for every call and a new event never
-- needs: upserting the task and queue rows, and clearing the keys of running jobs with the same key.
-- Measured on one cluster, alternating runs (bench/README.md, `ingest`): the route at saturation
-- went from ~1,000 to ~2,000 deliveries/s with this instead of add_jobs inside the same statement,
-- PostgreSQL's CPU per delivery from ~0.7 to ~0.3 ms.
--
-- It writes graphile-worker's own table, whose shape belongs to graphile-worker: the version is
-- pinned (0.17.3, apps/api/package.json), and the test suite processes jobs enqueued this way, so a
-- change of that table fails the tests before it fails in production. Same guarantees as
-- app.enqueue_webhook_events (0010): the caller must act for a workspace, every job names that
-- workspace, and the worker loads the event as app_worker for it, so an id of another workspace's
-- event enqueues a job that finds nothing. A job already keyed to the event is left as it is.
--
-- PL/pgSQL so that graphile_worker's schema (installed at startup, after these migrations) is
-- resolved when called, not when created.

create or replace function app.enqueue_new_webhook_events(p_event_ids uuid[]) returns integer
  language plpgsql volatile security definer
  set search_path = pg_catalog, public
  as $$
declare
  ws uuid := app.current_workspace_id();
  task integer;
  n integer;
begin
  if ws is null then
    raise exception 'enqueue_new_webhook_events: no workspace (app.workspace_id is not set)'
      using errcode = '42501';
  end if;
  if coalesce(cardinality(p_event_ids), 0) = 0 then
    return 0;
  end if;
  select t.id into task from graphile_worker._private_tasks t where t.identifier = 'process_webhook_event';
  if task is null then
    insert into graphile_worker._private_tasks (identifier) values ('process_webhook_event')
      on conflict do nothing;
    select t.id into task from graphile_worker._private_tasks t where t.identifier = 'process_webhook_event';
  end if;
  insert into graphile_worker._private_jobs (task_id, payload, max_attempts, key)
  select task, json_build_object('eventId', e.id, 'workspaceId', ws), 8, 'webhook_event:' || e.id::text
  from unnest(p_event_ids) as e(id)
  on conflict (key) do nothing;
  get diagnostics n = row_count;
  if n > 0 then
    perform pg_notify('jobs:insert', json_build_object('count', n)::text);
  end if;
  return n;
end
$$;

revoke all on function app.enqueue_new_webhook_events(uuid[]) from public;
grant execute on function app.enqueue_new_webhook_events(uuid[]) to app_worker;

-- app.store_webhook_events: the route's whole store of a group of verified deliveries in ONE
-- statement (one implicit transaction, one round trip, one commit): per workspace, act for it as
-- app_worker, insert the events that still have a right to be stored, and enqueue their jobs. The
-- payloads come as a text array beside the metadata, not inside its JSON: unescaping 3 KB of
-- JSON-in-JSON cost PostgreSQL ~35 µs per event (pgbench, json_to_recordset of 8 events with and
-- without the payload). Its NOTIFY holds a cluster-wide lock from its commit through the WAL flush;
-- the route therefore runs one such statement at a time per process and puts every delivery that
-- arrives meanwhile into the next (apps/api/src/webhooks/store.ts).
--
-- "Still have a right": the route verifies each HMAC against secrets it may have read a few seconds
-- earlier (it keeps shop → integration for a while, apps/api/src/webhooks/store.ts), so an event is
-- stored only if its integration still belongs to that workspace and shop domain, is still active
-- when the topic needs it, and still holds the secret that verified it (the current one, or the
-- previous one before it expires). An event that fails this is answered 'stale' and stored nowhere;
-- the route then reads the integration again and decides afresh. Otherwise 'accepted', or
-- 'duplicate' when (integration, webhook id) is already stored.
--
-- SECURITY INVOKER: it runs as its caller, switched to app_worker (a no-op for the route's own
-- app_worker login; it keeps a tool's or a test's superuser connection from bypassing row-level
-- security), and row-level security checks every row against the workspace it acts for.

create or replace function app.store_webhook_events(p_events json, p_payloads text[])
  returns table (integration_id uuid, external_id text, outcome text)
  language plpgsql volatile security invoker
  as $$
declare
  ws uuid;
begin
  perform pg_catalog.set_config('role', 'app_worker', true);
  for ws in
    select distinct e.workspace_id from pg_catalog.json_to_recordset(p_events) as e(workspace_id uuid)
  loop
    perform pg_catalog.set_config('app.workspace_id', ws::text, true);
    return query
      with given as (
        select e.*
        from pg_catalog.json_to_recordset(p_events) as e(
          workspace_id uuid, integration_id uuid, external_id text, event_id text, topic text,
          shop_domain text, api_version text, triggered_at timestamptz, headers jsonb,
          secret_enc text, needs_active boolean, payload_index integer)
        where e.workspace_id = ws
      ),
      allowed as (
        select g.*
        from given g
        join public.integrations i on i.id = g.integration_id and i.workspace_id = ws
        where pg_catalog.lower(i.config ->> 'shopDomain') = g.shop_domain
          and (i.is_active or not g.needs_active)
          and (i.webhook_secret_enc = g.secret_enc
               or (i.webhook_secret_previous_enc = g.secret_enc
                   and i.webhook_secret_previous_expires_at > pg_catalog.now()))
      ),
      inserted as (
        insert into public.webhook_events as w (workspace_id, integration_id, external_id, event_id, topic,
                                                shop_domain, api_version, triggered_at, payload, headers)
        select ws, a.integration_id, a.external_id, a.event_id, a.topic, a.shop_domain, a.api_version,
               a.triggered_at, p_payloads[a.payload_index], a.headers
        from allowed a
        on conflict on constraint webhook_events_integration_id_external_id_key do nothing
        returning w.id, w.integration_id, w.external_id
      ),
      enqueued as (
        select app.enqueue_new_webhook_events(array(select i.id from inserted i)) as jobs
      )
      select g.integration_id, g.external_id,
             case
               when exists (select 1 from inserted i
                            where i.integration_id = g.integration_id and i.external_id = g.external_id)
                 then 'accepted'
               when exists (select 1 from allowed a
                            where a.integration_id = g.integration_id and a.external_id = g.external_id)
                 then 'duplicate'
               else 'stale'
             end
      from given g, enqueued;
  end loop;
end
$$;

revoke all on function app.store_webhook_events(json, text[]) from public;
grant execute on function app.store_webhook_events(json, text[]) to app_worker;
