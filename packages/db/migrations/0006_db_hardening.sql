-- Fixes found by the packages/db test suite.

-- 1. orders.integration_id was a plain foreign key to integrations (id). Foreign keys are checked
--    without row-level security, so an order of workspace A could name workspace B's integration
--    (and a failed insert told whether such an id exists). Like every other reference between
--    tenant rows, it now goes through (workspace_id, id).
update orders o set integration_id = null
where o.integration_id is not null
  and not exists (
    select 1 from integrations i where i.id = o.integration_id and i.workspace_id = o.workspace_id
  );
alter table orders drop constraint orders_integration_id_fkey;
alter table orders add constraint orders_workspace_integration_fkey
  foreign key (workspace_id, integration_id) references integrations (workspace_id, id)
  on delete set null (integration_id);
create index if not exists orders_integration_idx on orders (integration_id) where integration_id is not null;

-- 2. schema_migrations (created by the runner before 0001) was the one public table without
--    row-level security. No application role has a grant on it; enabling and forcing RLS keeps the
--    rule "every public table has RLS enabled and forced" free of exceptions. The migrating role
--    (a superuser or BYPASSRLS role is not affected anyway) keeps a policy of its own, so a runner
--    that is neither can never be made to see an empty history and re-apply everything.
alter table schema_migrations enable row level security;
alter table schema_migrations force row level security;
revoke all on schema_migrations from public;
do $$
begin
  execute format(
    'create policy migrator_all on schema_migrations to %I using (true) with check (true)', current_user);
end
$$;
