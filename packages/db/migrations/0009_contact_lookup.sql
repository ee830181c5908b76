-- Indexes for the worker's fuzzy contact-candidate lookup (findContactCandidatesByName in
-- packages/db/src/worker/contacts.ts) that follow what the scorer (scoreContactCandidate in
-- packages/shopify/src/fuzzy.ts) can accept, instead of "any word sounds alike or 50% similar".
--
-- The scorer accepts a candidate only with name ≥ 0.5 and score ≥ 0.6, where the name counts at most
-- 0.5; the rest must come from the same city (+0.25, then name ≥ 0.699 once the score is rounded to
-- three decimals: a trigram similarity that high, or sounding alike = 0.8), a phone 0–2 digits off
-- (+0.35/+0.4) or the same email (+0.4). So the lookup has three arms, each on an index of its own:
--
--   1. same city and sounding alike: app.crm_name_city_keys(name, city) below, one GIN lookup;
--   2. same city and trigram similarity ≥ 0.69: the trigram GIN on name_norm, at that threshold;
--   3. a phone at most 2 edits away: app.crm_phone_near_keys(phone) below, then levenshtein().
--
-- The functions are IMMUTABLE (indexable) and LEAKPROOF (at the end): under forced row-level security
-- a condition is used as an index condition only when every function in it is leakproof. They return
-- an array computed from their arguments and raise no error that depends on the data.

-- "Sounding alike" as the scorer defines it, over the words of the normalised name of at least two
-- characters (W) and their double-metaphone keys (K(w), primary and alternate):
--   one word each:      the two words share a key;
--   2+ words each:      every word of the shorter name shares a key with some word of the other
--                       (a name of one word never sounds like a name of two).
-- A necessary condition that one array overlap can test: the tokens of the stored name
--   single word:  '1:' k                for k in K(w)
--   2+ words:     'x:' ka '|' kb        ka in K(wi), kb in K(wj), i < j   (keys of two different words)
--                 's:' ka '|' kb        ka, kb in K(wi)                   (keys of one word)
-- (pairs written with the smaller key first), each prefixed by a tag of the city, so that only
-- contacts of the probe's city are found; the probe's tokens (app.crm_name_city_probe) are
--   single word:  '1:' k;   2+ words: 'x:' and 's:' for the pairs of two different words, and 'x:' for
--   the pairs of one word.
-- Why nothing is lost: if every probe word matches some stored word, take two probe words and the
-- stored words they match: two different stored words give an 'x:' pair on both sides, the same stored
-- word gives the probe's 'x:'-built 's:' token. If every stored word (2+) matches a probe word, take
-- two stored words: two different probe words give an 'x:' pair, one probe word gives its 'x:'-tagged
-- pair of one word. The database's dmetaphone() differs from the scorer's JavaScript double-metaphone
-- on a few spellings (doubled "jj", "cia"); see the tests in apps/api for what that costs.
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
    )
    select coalesce(array_agg(distinct tok), '{}')
    from (
      select tag.t || '1:' || k.k as tok from tag, n, k where n.n = 1
      union all
      select tag.t || case when pairs.cross_words then 'x:' else 's:' end || pairs.p
      from tag, n, pairs where n.n >= 2
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
    )
    select coalesce(array_agg(distinct tok), '{}')
    from (
      select tag.t || '1:' || k.k as tok from tag, n, k where n.n = 1
      union all
      select tag.t || 'x:' || pairs.p from tag, n, pairs where n.n >= 2
      union all
      select tag.t || 's:' || pairs.p from tag, n, pairs where n.n >= 2 and pairs.cross_words
    ) as s
  $$;

-- Phones at most 2 edits apart (the scorer: Levenshtein over the national digits, or over all digits
-- for different countries — the same number, as a shared prefix does not change an edit distance)
-- share a string obtained by deleting at most 2 digits from each: the keys are those strings (with
-- their length, as one bigint), the digits of the phone itself included. levenshtein() then keeps the
-- true neighbours.
create or replace function app.crm_phone_near_keys(phone text) returns bigint[]
  language plpgsql immutable parallel safe
  as $$
    declare
      d constant text := regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g');
      n constant int := length(d);
      keys bigint[] := '{}';
      v text;
    begin
      if n = 0 or n > 15 then
        return keys;
      end if;
      keys := keys || (n::bigint * 1000000000000000 + d::bigint);
      for i in 1 .. n loop
        v := overlay(d placing '' from i for 1);
        if v <> '' then
          keys := keys || (length(v)::bigint * 1000000000000000 + v::bigint);
        end if;
        for j in i + 1 .. n loop
          v := overlay(overlay(d placing '' from j for 1) placing '' from i for 1);
          if v <> '' then
            keys := keys || (length(v)::bigint * 1000000000000000 + v::bigint);
          end if;
        end loop;
      end loop;
      return keys;
    end
  $$;

grant execute on function app.crm_name_city_keys(text, text) to app_user, app_worker;
grant execute on function app.crm_name_city_probe(text, text) to app_user, app_worker;
grant execute on function app.crm_phone_near_keys(text) to app_user, app_worker;

create index contacts_name_city_keys_idx on contacts using gin (app.crm_name_city_keys(name, city));
create index contacts_phone_near_keys_idx on contacts using gin (app.crm_phone_near_keys(phone))
  where phone is not null;

do $$
begin
  alter function app.crm_name_city_keys(text, text) leakproof;
  alter function app.crm_name_city_probe(text, text) leakproof;
  alter function app.crm_phone_near_keys(text) leakproof;
exception when insufficient_privilege then
  raise notice 'not a superuser: the contact-lookup functions are not LEAKPROOF (the lookup will not use their indexes under RLS)';
end
$$;
