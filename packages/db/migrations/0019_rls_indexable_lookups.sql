-- Lookups the worker runs as app_worker under forced row-level security, made indexable.
--
-- PostgreSQL applies a query's own condition ahead of (or inside) an index scan under RLS only when
-- every function it applies to a column is LEAKPROOF. lower() and app.crm_normalize() are not, so
-- `lower(email) = lower($1)` (a contact by email), `lower(sku) = any($1)` (products by SKU) and
-- `app.crm_normalize(title) % …` (products by title) were checked row by row after the policy: a
-- sequential scan of the workspace's contacts or products per order (728 ms at 100k contacts, issue
-- #18). Rather than mark lower() LEAKPROOF for the whole database (it is not this project's function
-- to vouch for, and a superuser would be needed), the normalised forms are stored as generated columns:
-- the lookups compare a column to a value with `=` on text (texteq, leakproof) or pg_trgm's `%`
-- (similarity_op, made leakproof by 0008), which can be index conditions as any role.

alter table contacts add column email_norm text generated always as (lower(email)) stored;
create index contacts_workspace_email_norm_idx on contacts (workspace_id, email_norm) where email_norm is not null;
drop index if exists contacts_workspace_email_idx;

alter table products
  add column sku_norm text generated always as (case when sku <> '' then lower(sku) end) stored,
  add column title_norm text generated always as (app.crm_normalize(title)) stored;
-- The uniqueness stays on lower(sku) (products_workspace_sku_key); this one is what lookups use.
create index products_workspace_sku_norm_idx on products (workspace_id, sku_norm) where sku_norm is not null;
create index products_title_norm_trgm_idx on products using gin (title_norm gin_trgm_ops);
drop index if exists products_title_trgm_idx;

-- The owner's lists, newest first with `id desc` as the tie-break: an index that ends in `id` (asc)
-- cannot give that order, so every page read and sorted the workspace's rows (a sequential scan).
drop index if exists webhook_events_recent_idx;
create index webhook_events_recent_idx on webhook_events (workspace_id, received_at desc, id desc);
drop index if exists webhook_events_status_idx;
create index webhook_events_status_idx on webhook_events (workspace_id, status, received_at desc, id desc);
-- The topic filter, and its list of topics (a skip scan over this index, listEventTopics).
create index webhook_events_topic_idx on webhook_events (workspace_id, topic, received_at desc, id desc);

create index orders_recent_idx on orders (workspace_id, created_at desc, id desc);
create index orders_pipeline_idx on orders (workspace_id, pipeline_id, created_at desc, id desc);
drop index if exists orders_stage_idx;
create index orders_stage_idx on orders (workspace_id, pipeline_id, stage_id, created_at desc, id desc);
