-- The contact lookup's phone arm (0009) finds phones "near" the order's through shared keys of a GIN
-- index, then keeps the true neighbours. Its keys were every string made by deleting at most two
-- digits: exact for an edit distance ≤ 2, but two phones that share such a string can be up to 4
-- edits apart, so at a million contacts (0.5% of a 200-million-number block taken) the bench's 400
-- probes shared keys with ~140 contacts each on average (p95 ~320), each a heap row fetched and
-- thrown away: most of the arm's time (EXPLAIN: index p50 0.77 ms, p95 1.57 ms; the arm p50 1.23 ms,
-- p95 3.60 ms).
--
-- "Near" is now what the scorer (phonesAreNear in @crm/shopify) counts: the digits' edit distance
-- plus the difference of their counts at most 2 — 1–2 edits between numbers of one length (mistyped,
-- swapped, one dropped and another added), or one digit dropped or added alone. The keys, one bigint
-- each (the same number as before: 1 + n + n(n−1)/2 for n digits):
--   W  (i, j, n, the digits without positions i and j), for every i < j: two phones of one length
--      share one exactly when they differ at most at two positions (at most two mistyped);
--   D  (n − 1, the digits without one), for every position: two phones of one length share one when
--      one digit dropped and another added turn one into the other, and D of the longer equals F of
--      the shorter when one digit is dropped alone;
--   F  (n, the digits).
-- Every pair that shares a key is near, and every near pair shares one: the arm reads only true
-- neighbours (the tests check both ways against the definition).
drop index contacts_phone_near_keys_idx;

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
      -- F and D: the length of what is left, then its digits (< 10^15).
      keys := keys || (n::bigint * 1000000000000000 + d::bigint);
      for i in 1 .. n loop
        v := overlay(d placing '' from i for 1);
        if v <> '' then
          keys := keys || ((n - 1)::bigint * 1000000000000000 + v::bigint);
        end if;
      end loop;
      -- W: above every F and D key (≥ 2·10^17): which two positions, of how many digits, then the
      -- other digits (at most 13, < 10^13).
      for i in 1 .. n - 1 loop
        for j in i + 1 .. n loop
          v := overlay(overlay(d placing '' from j for 1) placing '' from i for 1);
          keys := keys || (200000000000000000
            + ((n * 16 + i) * 16 + j)::bigint * 10000000000000
            + coalesce(nullif(v, '')::bigint, 0));
        end loop;
      end loop;
      return keys;
    end
  $$;

create index contacts_phone_near_keys_idx on contacts using gin (app.crm_phone_near_keys(phone))
  where phone is not null;

-- The distance the lookup filters and scores by: the edit distance plus the difference in length,
-- near when 1–2 (phonesAreNear), the same phone at 0. For the digits of two phones.
create or replace function app.crm_phone_offset(a text, b text) returns int
  language sql immutable parallel safe
  as $$
    select public.levenshtein(a, b) + abs(length(a) - length(b))
  $$;

grant execute on function app.crm_phone_offset(text, text) to app_user, app_worker;

-- CREATE OR REPLACE resets LEAKPROOF (see 0009 for why the lookup needs it).
do $$
begin
  alter function app.crm_phone_near_keys(text) leakproof;
exception when insufficient_privilege then
  raise notice 'not a superuser: app.crm_phone_near_keys is not LEAKPROOF (the lookup will not use its index under RLS)';
end
$$;
