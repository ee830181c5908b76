-- An order's total follows its lines once per statement, not once per line (issue #18).
--
-- 0002's row trigger updated the order after each inserted, changed or deleted line: an order of
-- three lines, inserted in one statement, was updated three times (three row versions of orders, three
-- sums of its lines, three runs of orders_keep_total). These statement triggers see the statement's
-- lines in transition tables and update each order touched once; orders_keep_total (0002) still sets
-- the total from the lines, so any direct write to it is overridden as before.
--
-- PostgreSQL allows transition tables only on a trigger of one event: one trigger per event, one
-- function for the three.
drop trigger order_products_sync_total on order_products;
drop function app.order_products_sync_total();

create function app.order_products_sync_totals() returns trigger
  language plpgsql
  as $$
begin
  if tg_op = 'INSERT' then
    update public.orders set total_value = 0 where id in (select n.order_id from new_lines as n);
  elsif tg_op = 'DELETE' then
    update public.orders set total_value = 0 where id in (select o.order_id from old_lines as o);
  else
    update public.orders set total_value = 0
    where id in (select o.order_id from old_lines as o union select n.order_id from new_lines as n);
  end if;
  return null;
end
$$;

create trigger order_products_sync_totals_insert after insert on order_products
  referencing new table as new_lines
  for each statement execute function app.order_products_sync_totals();
create trigger order_products_sync_totals_update after update on order_products
  referencing old table as old_lines new table as new_lines
  for each statement execute function app.order_products_sync_totals();
create trigger order_products_sync_totals_delete after delete on order_products
  referencing old table as old_lines
  for each statement execute function app.order_products_sync_totals();
