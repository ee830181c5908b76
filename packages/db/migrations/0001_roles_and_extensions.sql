-- Extensions the contact matching needs, and the roles the application runs as.
-- Roles are cluster-wide: creating one that already exists (another database of the same cluster,
-- or a concurrent runner) is not an error.

create extension if not exists pg_trgm;
create extension if not exists fuzzystrmatch;

do $$
declare
  r text;
begin
  foreach r in array array['app_user', 'app_worker', 'app_auth', 'app_rls'] loop
    begin
      execute format('create role %I nologin nosuperuser nocreatedb nocreaterole noinherit nobypassrls', r);
    exception when duplicate_object or unique_violation then
      null;
    end;
    -- Re-assert the attributes in case the role pre-existed with others.
    execute format('alter role %I nosuperuser nobypassrls nocreatedb nocreaterole', r);
    -- The connecting (migrating) role switches into these with SET LOCAL ROLE.
    begin
      execute format('grant %I to current_user', r);
    exception when others then
      null;
    end;
  end loop;
end
$$;

-- A private schema for the RLS helpers and the narrow functions of the webhook/auth paths.
create schema if not exists app;
revoke all on schema app from public;
grant usage on schema app to app_user, app_worker, app_auth, app_rls;
grant usage on schema public to app_user, app_worker, app_auth, app_rls;

-- The current user of a request, or NULL (nobody) when unset or empty: a forgotten setting fails closed.
create or replace function app.current_user_id() returns uuid
  language sql stable
  as $$ select nullif(current_setting('app.user_id', true), '')::uuid $$;

-- The workspace the worker/webhook path acts for, or NULL (nothing) when unset.
create or replace function app.current_workspace_id() returns uuid
  language sql stable
  as $$ select nullif(current_setting('app.workspace_id', true), '')::uuid $$;

grant execute on function app.current_user_id() to app_user, app_worker, app_auth, app_rls;
grant execute on function app.current_workspace_id() to app_user, app_worker, app_auth, app_rls;

-- Accent-, case- and punctuation-insensitive form of a name or city. Immutable so it can be indexed.
-- packages/shopify normalizeText() computes the same thing in TypeScript.
create or replace function app.crm_normalize(t text) returns text
  language sql immutable parallel safe
  as $$
    select btrim(regexp_replace(
      translate(lower(coalesce(t, '')),
        'áàâäãåāéèêëēíìîïīóòôöõōúùûüūñçýÿ',
        'aaaaaaaeeeeeiiiiioooooouuuuuncyy'),
      '[^a-z0-9]+', ' ', 'g'))
  $$;

-- Double-metaphone keys (primary and alternate) of each word of a normalised name.
create or replace function app.crm_phonetic_keys(t text) returns text[]
  language sql immutable parallel safe
  as $$
    select coalesce(array_agg(distinct k) filter (where k is not null and k <> ''), '{}')
    from unnest(string_to_array(app.crm_normalize(t), ' ')) as w(word),
         lateral (values (public.dmetaphone(w.word)), (public.dmetaphone_alt(w.word))) as keys(k)
    where length(w.word) >= 2
  $$;

grant execute on function app.crm_normalize(text) to app_user, app_worker, app_auth, app_rls;
grant execute on function app.crm_phonetic_keys(text) to app_user, app_worker, app_auth, app_rls;
