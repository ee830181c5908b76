-- Which of a contact's personal fields came from Shopify (issue #21, redaction).
--
-- customers/redact and shop/redact erase what came from Shopify for a customer, never what a person
-- typed into the CRM: a contact made by hand that an order was linked to (same phone or email), or
-- whose blanks an order filled, keeps the values a person entered. So every contact records the
-- fields whose current value was written by the webhook/worker path (role app_worker): set when
-- app_worker writes a field, cleared when anyone else changes it (or app_worker empties it).
alter table contacts add column shopify_fields text[] not null default '{}';

create function app.contact_shopify_fields() returns trigger
language plpgsql set search_path = pg_catalog as $$
declare
  field text;
  before jsonb := case when tg_op = 'UPDATE' then to_jsonb(old) else '{}'::jsonb end;
  after jsonb := to_jsonb(new);
  fields text[] := case when tg_op = 'UPDATE' then old.shopify_fields else '{}'::text[] end;
begin
  foreach field in array array['name', 'phone', 'secondary_phone', 'email', 'secondary_email', 'address',
                               'city', 'department'] loop
    if (before -> field) is distinct from (after -> field) then
      fields := array_remove(fields, field);
      if current_user = 'app_worker' and coalesce(btrim(after ->> field), '') <> '' then
        fields := array_append(fields, field);
      end if;
    end if;
  end loop;
  new.shopify_fields := fields;
  return new;
end
$$;

create trigger contacts_shopify_fields
  before insert or update of name, phone, secondary_phone, email, secondary_email, address, city, department
  on contacts for each row execute function app.contact_shopify_fields();

-- Contacts from before this migration: those with a Shopify customer id or a Shopify order are
-- taken as Shopify's (a redaction erases rather than keeps what it cannot tell apart).
update contacts c set shopify_fields = array(
  select f from unnest(array['name', 'phone', 'secondary_phone', 'email', 'secondary_email', 'address',
                             'city', 'department']) f
  where coalesce(btrim(to_jsonb(c) ->> f), '') <> '')
where c.shopify_customer_id is not null
   or exists (select 1 from orders o
              where o.workspace_id = c.workspace_id and o.contact_id = c.id and o.shopify_order_id is not null);
