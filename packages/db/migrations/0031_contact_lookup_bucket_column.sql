-- The trigram buckets' predicates read a stored column instead of calling a function (issue #18).
--
-- Since 0013 every insert into contacts (and every update that is not HOT) evaluated the predicates of
-- the 64 partial trigram indexes, `app.crm_lookup_bucket(workspace_id, city_norm) = N`: 64 md5 hashes
-- of the same (workspace, city) per row. The bucket is now computed once per row into
-- contacts.lookup_bucket, and each index's predicate is an integer comparison with it. Measured with
-- pgbench (one client, one contact per transaction, synchronous_commit off, a workspace of ~450k
-- contacts in 40 cities, the other indexes dropped, runs alternated): 0.78 / 0.82 ms per insert with
-- the column against 0.98 / 1.30 ms with the function — ~0.2 ms of PostgreSQL's time per new contact,
-- on the statement that costs an order the most (BENCHMARKS.md, session 19).
--
-- The lookup's trigram arm names the probe's bucket as a constant on the column, `lookup_bucket = N`,
-- so that the planner still picks that bucket's index alone; an integer comparison is LEAKPROOF, so it
-- is an index condition ahead of the row-level security policy, as the function was (0012).
--
-- Adding a stored generated column rewrites the table, and each index is built again: on a large
-- contacts table this migration holds the table for the time of a full rewrite and 64 index builds.
alter table contacts
  add column lookup_bucket integer
  generated always as (app.crm_lookup_bucket(workspace_id, app.crm_normalize(city))) stored;

do $$
begin
  for b in 0 .. 63 loop
    execute format('drop index contacts_name_trgm_b%s_idx', b);
    execute format(
      'create index contacts_name_trgm_b%s_idx on contacts using gin (name_norm gin_trgm_ops) '
      'with (fastupdate = off) where lookup_bucket = %s', b, b);
  end loop;
end
$$;
