-- The claim returns what an attempt reads first (#18): the event's integration, topic and payload,
-- and the version of its row the claim wrote (its xmin).
--
-- An order event's attempt started with a round trip of its own (startWebhookEventAttempt: the row
-- lock, the payload, the integration) before the reads that need the payload (the order's lock and
-- row, its products, its customer's contact) could be sent. With the payload from the claim those
-- reads go out in the same round trip as the start, behind it. They are only a guess until the
-- start answers, under row-level security for the event's workspace: the start returns the payload
-- again only when the row is no longer the version claimed (a customers/redact rewrote it, a lease
-- renewal or a replay touched it), and then the attempt reads again with the payload it returns.
-- What an attempt writes is therefore always what app_worker may read of its own workspace.
--
-- 0022 kept payloads out of the claim (a SECURITY DEFINER function that reads every workspace's
-- events): the worker that claims an event processes it next, and reads its payload then anyway;
-- the claim still returns only the events it leases to that worker.
drop function app.claim_webhook_events(text, integer, double precision);

create function app.claim_webhook_events(p_worker text, p_limit integer, p_lease_seconds double precision)
  returns table (id uuid, workspace_id uuid, attempts integer, integration_id uuid, topic text,
                 payload text, version text)
  language plpgsql volatile security definer
  set search_path = pg_catalog, public
  set enable_seqscan = off
  set plan_cache_mode = force_generic_plan
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
    returning e.id, e.workspace_id, e.attempts, e.integration_id, e.topic, e.payload, e.xmin::text;
end
$$;

revoke all on function app.claim_webhook_events(text, integer, double precision) from public;
grant execute on function app.claim_webhook_events(text, integer, double precision) to app_worker;
