-- The lookup's "same city and sounding alike" arm (0009) finds names through pairs of their words'
-- double-metaphone keys: a necessary condition (a name sounds alike only if every word of the
-- shorter one shares a key with a word of the other, so two of them do), but a weak one for names of
-- three words or more. At a million contacts the arm returned 8,001 rows for the bench's 400 probes,
-- 892 of which sound alike (for probes of 3–4 words, 7%): each a heap row read and ordered, and the
-- slowest searches were those ("Rosa Reyes Álvarez": rosa, reyes, ruiz, ríos… all have the key RS;
-- 814 rows).
--
-- A probe of exactly three words against a stored name of three or more is now matched on all three
-- of its words: the probe is then the shorter (or as long), so each of its words shares a key with
-- some word of the stored name, and the three keys, sorted, are one of the stored name's 3-multisets
-- of keys ('T:' tokens, repetition allowed: two probe words may match one stored word). The pair
-- tokens of 0009 stay for every other case, now tagged by the stored name's word count ('a' two
-- words, 'b' three or more), so that a three-word probe uses pairs only against two-word names,
-- where they are exact. Probes of 2 or 4+ words use pairs as before.
drop index contacts_name_city_keys_idx;

create or replace function app.crm_name_city_keys(name text, city text) returns text[]
  language sql immutable parallel safe
  as $$
    with w as (
      select u.i, u.word
      from unnest(string_to_array(app.crm_normalize(name), ' ')) with ordinality as u(word, i)
      where length(u.word) >= 2
    ),
    k as (
      select distinct w.i, x.k
      from w, lateral (values (public.dmetaphone(w.word)), (public.dmetaphone_alt(w.word))) as x(k)
      where x.k is not null and x.k <> ''
    ),
    tag as (
      select left(md5(c), 8) || ':' as t from app.crm_normalize(city) as c where c <> ''
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
    ) as s
  $$;

create or replace function app.crm_name_city_probe(name text, city text) returns text[]
  language sql immutable parallel safe
  as $$
    with w as (
      select u.i, u.word
      from unnest(string_to_array(app.crm_normalize(name), ' ')) with ordinality as u(word, i)
      where length(u.word) >= 2
    ),
    k as (
      select distinct w.i, x.k
      from w, lateral (values (public.dmetaphone(w.word)), (public.dmetaphone_alt(w.word))) as x(k)
      where x.k is not null and x.k <> ''
    ),
    tag as (
      select left(md5(c), 8) || ':' as t from app.crm_normalize(city) as c where c <> ''
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
    ) as s
  $$;

create index contacts_name_city_keys_idx on contacts using gin (app.crm_name_city_keys(name, city));

-- CREATE OR REPLACE resets LEAKPROOF (0009 explains why the lookup needs it).
do $$
begin
  alter function app.crm_name_city_keys(text, text) leakproof;
  alter function app.crm_name_city_probe(text, text) leakproof;
exception when insufficient_privilege then
  raise notice 'not a superuser: the contact-lookup functions are not LEAKPROOF (the lookup will not use their indexes under RLS)';
end
$$;
