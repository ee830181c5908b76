-- Orders as Shopify sees them (issue #21).
--
-- orders: the shop's currency of every amount; the customer's currency and what Shopify charges in
-- it, when it is another; the goods total before refunds (total_value stays the sum of the lines,
-- after refunds); Shopify's tags and test flag; when personal data was redacted (customers/redact,
-- shop/redact).
alter table orders
  add column currency text,
  add column presentment_currency text,
  add column presentment_total numeric(12, 2),
  add column original_total numeric(12, 2),
  add column tags text[] not null default '{}',
  add column is_test boolean not null default false,
  add column redacted_at timestamptz;

-- order_products: the units and amount as ordered, before refunds. A line whose every unit was
-- refunded keeps its row with quantity 0 (and its original quantity), so the order still shows what
-- was bought; any other line still has at least one unit.
alter table order_products
  add column original_quantity integer check (original_quantity > 0),
  add column original_subtotal numeric(12, 2) check (original_subtotal >= 0);
alter table order_products drop constraint order_products_quantity_check;
alter table order_products add constraint order_products_quantity_check
  check (quantity > 0 or (quantity = 0 and original_quantity > 0));

-- contacts: customer.email when the order was placed under another email.
alter table contacts add column secondary_email text;

-- webhook_events: what processing did, for the owner (an order that was there already, an older
-- update that changed nothing, what a redaction erased). last_error stays for failures.
alter table webhook_events add column note text;
