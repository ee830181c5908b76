-- The functions an order calls on every contact and every line, in PL/pgSQL instead of SQL (issue #18).
--
-- PostgreSQL 15 inlines a SQL function only when its body is one plain expression. These four have a
-- FROM (or CTEs): each is run by the SQL-function executor, which parses, analyses and plans its body
-- again in every statement that calls it (its cache lives in the calling expression, rebuilt per
-- statement), and for an index expression or a generated column that is every INSERT and UPDATE of
-- contacts. PL/pgSQL keeps a function's compiled body and its statements' plans for the session.
--
-- Measured (pg_stat_user_functions with track_functions = all, bench/src/order-steps.ts, 1,800 orders
-- at 10,000 contacts on one connection): per call crm_name_city_keys 0.118 ms, crm_name_city_probe
-- 0.58 ms, crm_phonetic_keys 0.127 ms, order_total 0.061 ms; together ~1.4 ms of the ~6 ms of server
-- time an order took. A CPU profile of PostgreSQL during the processing bench put 20% of its time under
-- the SQL-function executor, much of it parsing and planning.
--
-- The bodies are the same queries (0001, 0002, 0015), but for the city's normal form, now a VALUES row
-- rather than a function in FROM (which ran app.crm_normalize un-inlined, once per call). So every
-- stored key stays what it was: the
-- indexes on crm_name_city_keys and the generated name_phonetic need no rebuild. Volatility, parallel
-- safety and the grants are kept; CREATE OR REPLACE resets LEAKPROOF, set again below.

create or replace function app.crm_phonetic_keys(t text) returns text[]
  language plpgsql immutable parallel safe
  as $$
begin
  return (
    select coalesce(array_agg(distinct k) filter (where k is not null and k <> ''), '{}')
    from unnest(string_to_array(app.crm_normalize(t), ' ')) as w(word),
         lateral (values (public.dmetaphone(w.word)), (public.dmetaphone_alt(w.word))) as keys(k)
    where length(w.word) >= 2);
end
$$;

create or replace function app.crm_name_city_keys(name text, city text) returns text[]
  language plpgsql immutable parallel safe
  as $$
begin
  return (
    with w as (
      select u.i, u.word
      from unnest(string_to_array(app.crm_normalize(crm_name_city_keys.name), ' ')) with ordinality as u(word, i)
      where length(u.word) >= 2
    ),
    k as (
      select distinct w.i, x.k
      from w, lateral (values (public.dmetaphone(w.word)), (public.dmetaphone_alt(w.word))) as x(k)
      where x.k is not null and x.k <> ''
    ),
    tag as (
      select left(md5(c), 8) || ':' as t from (values (app.crm_normalize(crm_name_city_keys.city))) as v(c) where c <> ''
    ),
    n as (select count(*) as n from w),
    pairs as (
      -- two different words (cross) or one word (self), smaller key first
      select a.i <> b.i as cross_words, least(a.k, b.k) || '|' || greatest(a.k, b.k) as p
      from k as a join k as b on a.i < b.i or (a.i = b.i and a.k <= b.k)
    ),
    keys as (select distinct k.k from k)
    select coalesce(array_agg(distinct tok), '{}')
    from (
      select tag.t || '1:' || k.k as tok from tag, n, k where n.n = 1
      union all
      select tag.t || case when n.n = 2 then 'a' else 'b' end
             || case when pairs.cross_words then 'x:' else 's:' end || pairs.p
      from tag, n, pairs where n.n >= 2
      union all
      select tag.t || 'T:' || a.k || '|' || b.k || '|' || c.k
      from tag, n, keys as a, keys as b, keys as c
      where n.n >= 3 and a.k <= b.k and b.k <= c.k
    ) as s);
end
$$;

create or replace function app.crm_name_city_probe(name text, city text) returns text[]
  language plpgsql immutable parallel safe
  as $$
begin
  return (
    with w as (
      select u.i, u.word
      from unnest(string_to_array(app.crm_normalize(crm_name_city_probe.name), ' ')) with ordinality as u(word, i)
      where length(u.word) >= 2
    ),
    k as (
      select distinct w.i, x.k
      from w, lateral (values (public.dmetaphone(w.word)), (public.dmetaphone_alt(w.word))) as x(k)
      where x.k is not null and x.k <> ''
    ),
    tag as (
      select left(md5(c), 8) || ':' as t from (values (app.crm_normalize(crm_name_city_probe.city))) as v(c) where c <> ''
    ),
    n as (select count(*) as n from w),
    pairs as (
      -- two different words (cross) or one word (self), smaller key first
      select a.i <> b.i as cross_words, least(a.k, b.k) || '|' || greatest(a.k, b.k) as p
      from k as a join k as b on a.i < b.i or (a.i = b.i and a.k <= b.k)
    ),
    -- Which stored names a probe of n words meets through pairs: two-word ones always ('a'), those of
    -- three or more ('b') unless the probe has exactly three words (then 'T:' below).
    classes as (
      select c.class from n, (values ('a'), ('b')) as c(class)
      where n.n >= 2 and (c.class = 'a' or n.n <> 3)
    )
    select coalesce(array_agg(distinct tok), '{}')
    from (
      select tag.t || '1:' || k.k as tok from tag, n, k where n.n = 1
      union all
      select tag.t || classes.class || 'x:' || pairs.p from tag, classes, pairs
      union all
      select tag.t || classes.class || 's:' || pairs.p from tag, classes, pairs where pairs.cross_words
      union all
      select tag.t || 'T:' || (select string_agg(x, '|' order by x) from unnest(array[a.k, b.k, c.k]) as x)
      from tag, n, k as a, k as b, k as c
      where n.n = 3 and a.i < b.i and b.i < c.i
    ) as s);
end
$$;

create or replace function app.order_total(p_order uuid) returns numeric
  language plpgsql stable
  as $$
begin
  return (select coalesce(sum(subtotal), 0)::numeric(12, 2) from public.order_products where order_id = p_order);
end
$$;

do $$
begin
  alter function app.crm_name_city_keys(text, text) leakproof;
  alter function app.crm_name_city_probe(text, text) leakproof;
exception when insufficient_privilege then
  raise notice 'not a superuser: the contact-lookup functions are not LEAKPROOF (the lookup will not use their indexes under RLS)';
end
$$;
