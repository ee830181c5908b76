-- Successful Shopify connection tests, so that saving an integration can refuse credentials that have
-- not passed one. Only a keyed fingerprint (HMAC-SHA256 under a key derived from the credentials key)
-- of (workspace, shop domain, access token) is kept, never the token.

create table integration_connection_tests (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id) on delete cascade,
  fingerprint bytea not null,
  shop_domain text not null,
  shop_name text,
  tested_by uuid references users (id) on delete set null,
  tested_at timestamptz not null default now()
);
create index integration_connection_tests_lookup_idx
  on integration_connection_tests (workspace_id, fingerprint, tested_at desc);

alter table integration_connection_tests enable row level security;
alter table integration_connection_tests force row level security;
revoke all on integration_connection_tests from public;

-- Only the owner, who alone may change the integration, tests and saves credentials.
grant select, insert, delete on integration_connection_tests to app_user;
create policy owner_all on integration_connection_tests to app_user
  using (public.is_workspace_owner(workspace_id)) with check (public.is_workspace_owner(workspace_id));
