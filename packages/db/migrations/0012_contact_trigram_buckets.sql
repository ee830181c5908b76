-- The contact lookup's trigram arm (same city and pg_trgm similarity ≥ 0.69, see 0009 and
-- findContactCandidatesByName) used one trigram GIN over every contact's name_norm and kept the
-- probe's city only afterwards. pg_trgm's GIN already reads only the rarest of the probe's trigrams,
-- but each of their posting lists holds every contact of every workspace and city with that
-- trigram: at 1M contacts that was ~600 index pages and 17 ms (p50) for a 4-word name, the bulk of
-- the whole lookup (bench/ "lookup", BENCHMARKS.md).
--
-- So the trigram index is split by (workspace, city): 16 partial GIN indexes, one per bucket of
-- app.crm_lookup_bucket(workspace_id, city_norm). The lookup computes its probe's bucket first and
-- names it as a constant, so the planner proves the one partial index that can hold the same-city
-- contacts and scans only its posting lists — about a sixteenth of the data for evenly spread
-- cities; a city holding a large share of a workspace's contacts keeps that share in its bucket.
-- Contacts without a city fall in the bucket of '' (the lookup never searches it by name).
create or replace function app.crm_lookup_bucket(workspace_id uuid, city_norm text) returns int
  language sql immutable parallel safe
  as $$
    select ('x' || substr(md5(workspace_id::text || ':' || coalesce(city_norm, '')), 1, 2))::bit(8)::int & 15
  $$;

grant execute on function app.crm_lookup_bucket(uuid, text) to app_user, app_worker;

do $$
begin
  for b in 0 .. 15 loop
    execute format(
      'create index contacts_name_trgm_b%s_idx on contacts using gin (name_norm gin_trgm_ops) '
      'where app.crm_lookup_bucket(workspace_id, city_norm) = %s', b, b);
  end loop;
end
$$;

-- Nothing else searches contacts' names by trigrams over a whole workspace.
drop index contacts_name_trgm_idx;

do $$
begin
  alter function app.crm_lookup_bucket(uuid, text) leakproof;
exception when insufficient_privilege then
  raise notice 'not a superuser: app.crm_lookup_bucket is not LEAKPROOF';
end
$$;
