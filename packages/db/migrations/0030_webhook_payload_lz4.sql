-- A webhook's body (webhook_events.payload, ~3–4 KB of JSON for an order) is compressed with LZ4
-- instead of PostgreSQL's own pglz (#18).
--
-- A body above ~2 KB is compressed when its row is written: by the webhook route's storing statement,
-- one after another for a group of deliveries, while the route waits for that statement (one in
-- flight per server process). pglz is slow at it: a single-row insert of the orders/create fixture
-- (4.2 KB) took 0.24 ms with pglz and 0.19 ms with LZ4 (pgbench, one client, PostgreSQL 15 here), the
-- stored value 1,619 bytes against 1,886. Reading it back (the claim returns it) is cheaper too.
--
-- Only values written from now on: rows already stored keep pglz, and PostgreSQL reads both. A server
-- built without LZ4 support keeps pglz (the migration changes nothing there).
do $$
begin
  if exists (select 1 from pg_catalog.pg_settings
             where name = 'default_toast_compression' and 'lz4' = any (enumvals)) then
    alter table public.webhook_events alter column payload set compression lz4;
  end if;
end
$$;
