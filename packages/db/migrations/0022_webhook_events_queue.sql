-- webhook_events is the queue of webhook events (graphile-worker stays for reconcile runs only).
--
-- Until now every acked delivery committed its event row, a graphile-worker job and a NOTIFY in one
-- transaction. A NOTIFY holds a cluster-wide lock from its commit through the WAL flush, so only one
-- such commit was ever in flight, and every processed event paid graphile-worker's own get_job and
-- complete_job transactions besides ours. Now:
--
--   - the ack commits the event row only (status 'pending', run_at now()); the route wakes workers
--     with a NOTIFY on 'crm_webhook_events' sent after, outside, the ack's commit (coalesced), and
--     workers also poll, so a lost notification only delays;
--   - a worker claims a batch of due pending events in one statement (app.claim_webhook_events): it
--     counts the attempt, marks them locked_by itself and moves run_at to the end of its lease. While
--     locked_by is set, run_at IS the lease's end: a worker that dies stops renewing it, and its events
--     are due again — claimable by any other worker — once it passes. One partial index serves both
--     the due pending events and the expired leases;
--   - a failed attempt clears the lease and sets run_at to the retry's time (backoff); the last one
--     ends the event 'failed'. A replay sets the event pending and due now.
--
-- Claiming, renewing and releasing leases work across workspaces, which app_worker cannot see: they
-- are SECURITY DEFINER functions of the migrating role, and each touches only what it must — the
-- claim returns ids, workspaces and attempt counts (never a payload), renew and release only rows
-- locked by the worker id given. Processing itself still runs as app_worker for the event's
-- workspace, under row-level security.

alter table webhook_events
  add column run_at timestamptz not null default now(),
  add column locked_by text;

create index webhook_events_due_idx on webhook_events (run_at) include (locked_by) where status = 'pending';

-- A migrating role that is not a superuser (nor bypasses RLS) is subject to the forced row-level
-- security of webhook_events like any other role: give it, and only it, the queue's rows.
do $$
begin
  if not (select rolsuper or rolbypassrls from pg_catalog.pg_roles where rolname = current_user) then
    execute format('create policy queue_owner on public.webhook_events to %I using (true) with check (true)',
                   current_user);
  end if;
end
$$;

create function app.claim_webhook_events(p_worker text, p_limit integer, p_lease_seconds double precision)
  returns table (id uuid, workspace_id uuid, attempts integer)
  language sql volatile security definer
  set search_path = pg_catalog, public
  as $$
    update public.webhook_events e
    set locked_by = p_worker,
        run_at = pg_catalog.now() + pg_catalog.make_interval(secs => p_lease_seconds),
        attempts = e.attempts + 1
    from (select w.id from public.webhook_events w
          where w.status = 'pending' and w.run_at <= pg_catalog.now()
          order by w.run_at
          limit p_limit
          for update skip locked) due
    where e.id = due.id
    returning e.id, e.workspace_id, e.attempts
  $$;

-- Extends the leases of events this worker still holds (it renews every few seconds while it runs).
create function app.renew_webhook_event_leases(p_worker text, p_ids uuid[], p_lease_seconds double precision)
  returns integer
  language sql volatile security definer
  set search_path = pg_catalog, public
  as $$
    with renewed as (
      update public.webhook_events e
      set run_at = pg_catalog.now() + pg_catalog.make_interval(secs => p_lease_seconds)
      where e.id = any(p_ids) and e.locked_by = p_worker and e.status = 'pending'
      returning 1
    )
    select count(*)::integer from renewed
  $$;

-- Gives events this worker holds back to the queue, due now (a drain). Rows a running transaction
-- has locked are skipped: that transaction is about to end them, or its lease expires.
create function app.release_webhook_events(p_worker text, p_ids uuid[])
  returns integer
  language sql volatile security definer
  set search_path = pg_catalog, public
  as $$
    with released as (
      update public.webhook_events e
      set locked_by = null, run_at = pg_catalog.now()
      from (select w.id from public.webhook_events w
            where w.id = any(p_ids) and w.locked_by = p_worker and w.status = 'pending'
            for update skip locked) held
      where e.id = held.id
      returning 1
    )
    select count(*)::integer from released
  $$;

revoke all on function app.claim_webhook_events(text, integer, double precision) from public;
revoke all on function app.renew_webhook_event_leases(text, uuid[], double precision) from public;
revoke all on function app.release_webhook_events(text, uuid[]) from public;
grant execute on function app.claim_webhook_events(text, integer, double precision) to app_worker;
grant execute on function app.renew_webhook_event_leases(text, uuid[], double precision) to app_worker;
grant execute on function app.release_webhook_events(text, uuid[]) to app_worker;

-- The route's store: the events only, no job and no NOTIFY inside the ack's transaction.
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
      from given g;
  end loop;
end
$$;

-- The enqueue functions of 0004, 0010 and 0016 stay callable (a process of the previous version may
-- still run during a rolling deploy) but enqueue nothing: a pending event is its own job. They make
-- pending events of the caller's workspace due now, as app_worker under row-level security.
create or replace function app.enqueue_webhook_events(p_event_ids uuid[]) returns integer
  language plpgsql volatile security invoker
  set search_path = pg_catalog, public
  as $$
declare
  ws uuid := app.current_workspace_id();
  n integer;
begin
  if ws is null then
    raise exception 'enqueue_webhook_events: no workspace (app.workspace_id is not set)'
      using errcode = '42501';
  end if;
  update public.webhook_events e set run_at = pg_catalog.now()
  where e.id = any(p_event_ids) and e.workspace_id = ws and e.status = 'pending' and e.locked_by is null;
  get diagnostics n = row_count;
  return n;
end
$$;

create or replace function app.enqueue_new_webhook_events(p_event_ids uuid[]) returns integer
  language plpgsql volatile security invoker
  set search_path = pg_catalog, public
  as $$
begin
  if app.current_workspace_id() is null then
    raise exception 'enqueue_new_webhook_events: no workspace (app.workspace_id is not set)'
      using errcode = '42501';
  end if;
  return app.enqueue_webhook_events(p_event_ids);
end
$$;

-- Upgrade: graphile-worker jobs of webhook events are not lost — the event of each is pending (or
-- done) in webhook_events already, so the job goes and the event keeps the job's schedule (a retry
-- waiting for its backoff stays waiting). A job that is running now, in a process of the previous
-- version, goes too: its event is due at once, and if both versions process it, the unique
-- (workspace, Shopify order id) and the order's advisory lock keep it to one order.
do $$
begin
  if pg_catalog.to_regclass('graphile_worker._private_jobs') is not null then
    with gone as (
      delete from graphile_worker._private_jobs j
      using graphile_worker._private_tasks t
      where t.id = j.task_id and t.identifier = 'process_webhook_event'
      returning j.payload, j.run_at, j.locked_at
    )
    update public.webhook_events e
    set run_at = case when g.locked_at is null then greatest(g.run_at, pg_catalog.now()) else pg_catalog.now() end
    from gone g
    where e.id = (g.payload ->> 'eventId')::uuid and e.status = 'pending';
  end if;
end
$$;
