-- The GIN indexes of contacts write new entries straight into the index (fastupdate = off), issue #18.
--
-- With PostgreSQL's default (fastupdate = on) a new contact's keys go to the index's pending list, an
-- unsorted list merged into the index only by (auto)vacuum or once it passes gin_pending_list_limit
-- (4 MB), and EVERY search through the index reads the whole list. During a sale each order that
-- creates a contact adds to the pending lists of these 66 indexes (name and city keys, near-phone keys,
-- the 64 trigram buckets) while each order's lookup searches three of them: measured on one
-- connection at 10,000 contacts over 1,800 orders (bench/src/order-steps.ts), the fuzzy lookup cost
-- 4.5 ms in the first 270 orders and 9.3 ms on average over 1,800, and 1.8 ms with fastupdate off;
-- the contact insert did not get dearer (2.9 → 2.3 ms per order).
--
-- Setting the option leaves what is pending in place: gin_clean_pending_list moves it into the index.
do $$
declare
  ix regclass;
begin
  for ix in
    select i.indexrelid::regclass
    from pg_catalog.pg_index i
    join pg_catalog.pg_class c on c.oid = i.indexrelid
    join pg_catalog.pg_am a on a.oid = c.relam
    where i.indrelid = 'public.contacts'::regclass and a.amname = 'gin'
  loop
    execute format('alter index %s set (fastupdate = off)', ix);
    perform pg_catalog.gin_clean_pending_list(ix);
  end loop;
end
$$;
