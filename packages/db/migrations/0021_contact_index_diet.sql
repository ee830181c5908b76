-- Index diet for contacts (issue #18 item 4): every index on contacts is maintained by each new
-- contact an order creates, and described to the planner of every statement on contacts (a new
-- connection loads them all on its first one).
--
-- contacts_name_phonetic_idx (0002: GIN over the name's double-metaphone keys) is no longer an index
-- condition of any statement: since 0009 the lookup reaches names that sound alike through
-- app.crm_name_city_keys (its own GIN, keyed by city), and name_phonetic is only read from the rows
-- the lookup's arms found (a filter and the score bound). Each new contact wrote 2–8 keys into it.
-- The column stays (the lookup reads it).
drop index if exists contacts_name_phonetic_idx;
