-- The contact-candidate lookup runs as app_worker under forced row-level security. PostgreSQL only
-- uses a condition as an index condition ahead of a policy's own condition when its operator is
-- LEAKPROOF; `&&` on arrays (arrayoverlap, the GIN index on name_phonetic) and pg_trgm's `%`
-- (similarity_op, the trigram GIN index on name_norm) are not marked so. Under RLS both indexes were
-- therefore never used: every lookup read the workspace's contacts one by one (seq scan, 1.4 s at
-- 100k contacts; bench/ "lookup" section, BENCHMARKS.md).
--
-- Both functions only return a boolean computed from their arguments and raise no error that depends
-- on the data (arrayoverlap errors only on mismatched element types, a property of the query), so
-- they reveal nothing about a row a policy hides: safe to mark LEAKPROOF. Doing so needs a superuser;
-- a migrating role that is not one skips this (a notice) and the lookup stays correct, only slow.
do $$
begin
  alter function pg_catalog.arrayoverlap(anyarray, anyarray) leakproof;
  alter function public.similarity_op(text, text) leakproof;
exception when insufficient_privilege then
  raise notice 'not a superuser: arrayoverlap and similarity_op left as they are (fuzzy contact lookup will not use its indexes under RLS)';
end
$$;
