-- The queue's claim (0022) in PL/pgSQL (issue #18), for the reason 0024 gives: as a SQL function it
-- was parsed and planned again at every call, and a worker claims about once per order when its
-- slots free one at a time. A CPU profile of PostgreSQL during the processing bench, after 0024, put
-- ~9% of its time under SECURITY DEFINER calls, most of it this function's parse and plan. PL/pgSQL
-- keeps the plan for the session. Same statement, same rights (SECURITY DEFINER, fixed search_path),
-- same grants (CREATE OR REPLACE keeps them). The lease renewal and the drain's release run every few
-- seconds and once per stop: left as they are.
create or replace function app.claim_webhook_events(p_worker text, p_limit integer, p_lease_seconds double precision)
  returns table (id uuid, workspace_id uuid, attempts integer)
  language plpgsql volatile security definer
  set search_path = pg_catalog, public
  as $$
#variable_conflict use_column
begin
  return query
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
    returning e.id, e.workspace_id, e.attempts;
end
$$;
