-- The domain. Every tenant row carries workspace_id; references between tenant rows go through
-- composite keys (workspace_id, id) so a row can never point into another workspace.

create table users (
  id uuid primary key default gen_random_uuid(),
  email text not null check (email = lower(btrim(email)) and email like '%_@_%'),
  name text not null default '',
  password_hash text not null,
  created_at timestamptz not null default now()
);
create unique index users_email_key on users (email);

create table sessions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  token_hash bytea not null unique,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  expires_at timestamptz not null,
  ip text,
  user_agent text
);
create index sessions_user_idx on sessions (user_id);

create table login_attempts (
  id bigint generated always as identity primary key,
  email text not null,
  ip text not null,
  succeeded boolean not null,
  attempted_at timestamptz not null default now()
);
create index login_attempts_email_idx on login_attempts (email, attempted_at desc);
create index login_attempts_ip_idx on login_attempts (ip, attempted_at desc);

create table workspaces (
  id uuid primary key default gen_random_uuid(),
  name text not null check (length(btrim(name)) > 0),
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]*$'),
  created_at timestamptz not null default now()
);

create table workspace_members (
  workspace_id uuid not null references workspaces (id) on delete cascade,
  user_id uuid not null references users (id) on delete cascade,
  role text not null check (role in ('owner', 'admin', 'agent')),
  created_at timestamptz not null default now(),
  primary key (workspace_id, user_id)
);
create index workspace_members_user_idx on workspace_members (user_id);

create table contacts (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id) on delete cascade,
  name text not null default '',
  phone text check (phone ~ '^\+[1-9][0-9]{6,14}$'),
  secondary_phone text check (secondary_phone ~ '^\+[1-9][0-9]{6,14}$'),
  email text,
  address text,
  city text,
  department text,
  shopify_customer_id text check (shopify_customer_id ~ '^[0-9]+$'),
  name_norm text generated always as (app.crm_normalize(name)) stored,
  city_norm text generated always as (app.crm_normalize(city)) stored,
  name_phonetic text[] generated always as (app.crm_phonetic_keys(name)) stored,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (workspace_id, id)
);
create unique index contacts_workspace_phone_key on contacts (workspace_id, phone);
create index contacts_workspace_email_idx on contacts (workspace_id, lower(email)) where email is not null;
create index contacts_name_trgm_idx on contacts using gin (name_norm gin_trgm_ops);
create index contacts_name_phonetic_idx on contacts using gin (name_phonetic);

create table pipelines (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id) on delete cascade,
  name text not null check (length(btrim(name)) > 0),
  position integer not null default 0,
  created_at timestamptz not null default now(),
  unique (workspace_id, id)
);

create table pipeline_stages (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null,
  pipeline_id uuid not null,
  name text not null check (length(btrim(name)) > 0),
  position integer not null,
  is_closed boolean not null default false,
  is_cancelled boolean not null default false,
  created_at timestamptz not null default now(),
  unique (workspace_id, id),
  unique (pipeline_id, id),
  foreign key (workspace_id, pipeline_id) references pipelines (workspace_id, id) on delete cascade
);
create index pipeline_stages_pipeline_idx on pipeline_stages (pipeline_id, position);

create table products (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id) on delete cascade,
  sku text,
  title text not null,
  price numeric(12, 2) not null check (price >= 0),
  is_active boolean not null default true,
  created_at timestamptz not null default now(),
  unique (workspace_id, id)
);
create unique index products_workspace_sku_key on products (workspace_id, lower(sku))
  where sku is not null and sku <> '';
create index products_title_trgm_idx on products using gin (app.crm_normalize(title) gin_trgm_ops);

create table integrations (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id) on delete cascade,
  type text not null check (type in ('shopify')),
  name text not null default 'Shopify',
  -- shopDomain, pipelineId, stageId, productMatching ('sku'|'name'|'value'), fuzzyMatching,
  -- autoCreateOrders, defaultPhoneCountry
  config jsonb not null default '{}'::jsonb check (jsonb_typeof(config) = 'object'),
  -- AES-256-GCM ciphertexts (packages/db/src/secrets.ts); never returned by any API
  access_token_enc text,
  webhook_secret_enc text,
  webhook_secret_previous_enc text,
  webhook_secret_previous_expires_at timestamptz,
  access_token_last4 text check (length(access_token_last4) <= 4),
  webhook_secret_last4 text check (length(webhook_secret_last4) <= 4),
  credentials_tested_at timestamptz,
  is_active boolean not null default true,
  last_sync_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (workspace_id, type),
  unique (workspace_id, id)
);
-- One shop maps to exactly one integration: the webhook route routes by it.
create unique index integrations_shop_domain_key on integrations (lower(config ->> 'shopDomain'))
  where config ? 'shopDomain';

create table orders (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references workspaces (id) on delete cascade,
  contact_id uuid,
  pipeline_id uuid not null,
  stage_id uuid not null,
  integration_id uuid references integrations (id) on delete set null,
  total_value numeric(12, 2) not null default 0,
  description text not null default '',
  shipping_address text,
  shipping_city text,
  shipping_department text,
  -- Shopify ids exceed 2^53: kept as a string of digits, never a JS number
  shopify_order_id text check (shopify_order_id ~ '^[0-9]+$'),
  shopify_order_name text,
  financial_status text,
  cancelled_at timestamptz,
  shopify_updated_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (workspace_id, id),
  foreign key (workspace_id, contact_id) references contacts (workspace_id, id),
  foreign key (workspace_id, pipeline_id) references pipelines (workspace_id, id),
  foreign key (workspace_id, stage_id) references pipeline_stages (workspace_id, id),
  foreign key (pipeline_id, stage_id) references pipeline_stages (pipeline_id, id)
);
create unique index orders_workspace_shopify_order_key on orders (workspace_id, shopify_order_id)
  where shopify_order_id is not null;
create index orders_stage_idx on orders (workspace_id, pipeline_id, stage_id, created_at desc);
create index orders_contact_idx on orders (contact_id);

create table order_products (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null,
  order_id uuid not null,
  product_id uuid,
  shopify_line_id text check (shopify_line_id ~ '^[0-9]+$'),
  sku text not null,
  title text not null,
  unit_price numeric(12, 2) not null check (unit_price >= 0),
  quantity integer not null check (quantity > 0),
  subtotal numeric(12, 2) not null check (subtotal >= 0),
  created_at timestamptz not null default now(),
  foreign key (workspace_id, order_id) references orders (workspace_id, id) on delete cascade,
  foreign key (workspace_id, product_id) references products (workspace_id, id)
);
create index order_products_order_idx on order_products (order_id);

-- orders.total_value is always the sum of its lines: recomputed when lines change, and any direct
-- write to it is overridden.
create function app.order_total(p_order uuid) returns numeric
  language sql stable
  as $$ select coalesce(sum(subtotal), 0)::numeric(12, 2) from public.order_products where order_id = p_order $$;

create function app.orders_keep_total() returns trigger
  language plpgsql
  as $$
begin
  new.total_value := app.order_total(new.id);
  return new;
end
$$;
create trigger orders_keep_total before insert or update of total_value on orders
  for each row execute function app.orders_keep_total();

create function app.order_products_sync_total() returns trigger
  language plpgsql
  as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    update public.orders set total_value = 0 where id = old.order_id;
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    update public.orders set total_value = 0 where id = new.order_id;
  end if;
  return null;
end
$$;
create trigger order_products_sync_total after insert or update or delete on order_products
  for each row execute function app.order_products_sync_total();

create table webhook_events (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null,
  integration_id uuid not null,
  external_id text not null,
  event_id text,
  topic text not null,
  shop_domain text not null,
  api_version text,
  triggered_at timestamptz,
  -- the raw body as received (UTF-8), so ids above 2^53 keep every digit
  payload text not null,
  headers jsonb not null default '{}'::jsonb,
  status text not null default 'pending' check (status in ('pending', 'processed', 'failed', 'ignored')),
  attempts integer not null default 0,
  last_error text,
  shopify_order_id text check (shopify_order_id ~ '^[0-9]+$'),
  order_id uuid,
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  unique (integration_id, external_id),
  unique (workspace_id, id),
  foreign key (workspace_id, integration_id) references integrations (workspace_id, id) on delete cascade,
  foreign key (workspace_id, order_id) references orders (workspace_id, id) on delete set null (order_id)
);
create index webhook_events_recent_idx on webhook_events (workspace_id, received_at desc, id);
create index webhook_events_status_idx on webhook_events (workspace_id, status, received_at desc);
create index webhook_events_order_idx on webhook_events (workspace_id, shopify_order_id);

create table contact_reviews (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null,
  order_id uuid,
  -- the contact the order was linked to (usually the one just created)
  contact_id uuid,
  -- the existing contact it may duplicate
  candidate_contact_id uuid,
  reasons text[] not null default '{}',
  score numeric(5, 4),
  status text not null default 'pending' check (status in ('pending', 'merged', 'ignored')),
  resolved_by uuid references users (id) on delete set null,
  resolved_at timestamptz,
  created_at timestamptz not null default now(),
  unique (workspace_id, id),
  foreign key (workspace_id, order_id) references orders (workspace_id, id) on delete set null (order_id),
  foreign key (workspace_id, contact_id) references contacts (workspace_id, id) on delete set null (contact_id),
  foreign key (workspace_id, candidate_contact_id) references contacts (workspace_id, id)
    on delete set null (candidate_contact_id),
  check ((status = 'pending') = (resolved_at is null))
);
create index contact_reviews_queue_idx on contact_reviews (workspace_id, status, created_at desc);

create table reconcile_runs (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null,
  integration_id uuid not null,
  since timestamptz not null,
  status text not null default 'queued' check (status in ('queued', 'running', 'succeeded', 'failed')),
  pages integer not null default 0,
  orders_seen integer not null default 0,
  orders_created integer not null default 0,
  orders_updated integer not null default 0,
  error text,
  requested_by uuid references users (id) on delete set null,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  unique (workspace_id, id),
  foreign key (workspace_id, integration_id) references integrations (workspace_id, id) on delete cascade
);
create index reconcile_runs_recent_idx on reconcile_runs (workspace_id, created_at desc);
