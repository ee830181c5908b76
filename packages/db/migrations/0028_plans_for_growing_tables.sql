-- Two worker statements whose plans depended on statistics that lag behind a growing table (#18).
--
-- A session keeps a statement's plan until an ANALYZE of its tables invalidates it; autovacuum
-- analyzes a table once a tenth of it changed, checking every autovacuum_naptime (a minute). During
-- a sale on a young store (and in every bench: the tables start empty) the orders table grows by
-- thousands of rows between analyzes, and with autovacuum off (as on the machines the benches ran on)
-- it never is analyzed. Without statistics PostgreSQL takes `workspace_id = $1` (the policy) to match
-- 0.5% of the rows, so an index on workspace_id looks as good as the primary key.
--
-- 1. The order-totals trigger (0025) updated `where id in (select order_id from new_lines)`: planned
--    that way, it read every order of the workspace (through an index on workspace_id) and joined
--    them to the new lines. pg_stat_statements in the processing bench at 100k contacts (4,400 orders):
--    ~560 buffers per statement by the end, ~1 ms of PostgreSQL's time per order; with autovacuum on
--    still ~335 (4,520 orders). Now each order of the statement's lines is updated by its id alone —
--    a unique key, which no estimate makes dearer than an index on the workspace. (A plan made on a
--    nearly empty table would still read it sequentially: the worker's transactions plan with
--    enable_seqscan off, WORKER_PLANNER_SETTINGS in @crm/db; the foreign-key checks of the lines
--    needed that too.)
-- 2. The claim (0026) has a parameter (its limit), so PostgreSQL chose between its generic plan and
--    a custom one at each call; the generic plan joined the due events back to webhook_events by a
--    sequential scan and looked dearer, so it planned anew at ~60% of its calls (5,648 plans in 9,355
--    claims, ~0.3 ms each). With enable_seqscan off the generic plan takes the due events through
--    webhook_events_due_idx in run_at order and each by primary key; force_generic_plan keeps it for
--    the session.
create or replace function app.order_products_sync_totals() returns trigger
  language plpgsql
  as $$
declare
  v_orders uuid[];
  v_order uuid;
begin
  -- Each event's trigger has only its own transition tables: the orders its lines name, then one
  -- update of each.
  if tg_op = 'INSERT' then
    v_orders := array(select distinct n.order_id from new_lines as n);
  elsif tg_op = 'DELETE' then
    v_orders := array(select distinct o.order_id from old_lines as o);
  else
    v_orders := array(select o.order_id from old_lines as o union select n.order_id from new_lines as n);
  end if;
  foreach v_order in array v_orders loop
    update public.orders set total_value = 0 where id = v_order;
  end loop;
  return null;
end
$$;

alter function app.claim_webhook_events(text, integer, double precision) set enable_seqscan = off;
alter function app.claim_webhook_events(text, integer, double precision)
  set plan_cache_mode = force_generic_plan;
