-- How a store is connected (Shopify since 2026): a legacy custom app's static token, a Dev Dashboard
-- app of the merchant's organization (client credentials grant), or "Connect with Shopify" (OAuth
-- authorization code grant with expiring offline tokens). Existing integrations are legacy ones and
-- keep working unchanged. Every secret is an AES-256-GCM ciphertext (packages/db/src/secrets.ts).

alter table integrations
  add column connection_method text not null default 'legacy'
    check (connection_method in ('legacy', 'client_credentials', 'oauth')),
  add column client_id text check (length(client_id) <= 200),
  add column client_secret_enc text,
  add column refresh_token_enc text,
  add column access_token_expires_at timestamptz,
  add column refresh_token_expires_at timestamptz,
  add column token_renewed_at timestamptz,
  -- Shopify refused a token that renewal could not fix (revoked, uninstalled, secret rotated).
  -- Webhooks keep being verified, stored and processed; only Admin API calls wait for a reconnect.
  add column needs_reconnection_at timestamptz,
  add column needs_reconnection_reason text,
  -- The last API version warning Shopify gave (fell forward to another version, deprecated use).
  add column api_warning text,
  add constraint client_credentials_complete check (
    connection_method <> 'client_credentials' or (client_id is not null and client_secret_enc is not null)
  );

-- "Connect with Shopify": a single-use state nonce bound to the owner's session and workspace.
create table shopify_oauth_states (
  nonce_hash bytea primary key,
  user_id uuid not null references users (id) on delete cascade,
  workspace_id uuid not null references workspaces (id) on delete cascade,
  session_hash bytea not null,
  shop_domain text not null check (shop_domain ~ '^[a-z0-9][a-z0-9-]*\.myshopify\.com$'),
  created_at timestamptz not null default now(),
  used_at timestamptz
);
create index shopify_oauth_states_created_at on shopify_oauth_states (created_at);

alter table shopify_oauth_states enable row level security;
alter table shopify_oauth_states force row level security;
revoke all on shopify_oauth_states from public;
grant select, insert, update, delete on shopify_oauth_states to app_user;
-- Only the owner who started a connection sees and uses its state.
create policy own_state on shopify_oauth_states to app_user
  using (user_id = app.current_user_id() and public.is_workspace_owner(workspace_id))
  with check (user_id = app.current_user_id() and public.is_workspace_owner(workspace_id));
