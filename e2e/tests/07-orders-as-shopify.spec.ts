import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, test } from '@playwright/test';
import { go, login, OWNER, postWebhook, screenshot } from '../support/helpers.ts';

// Issue #21 on the Orders board: currency, refunds and test orders, from packages/shopify's fixtures.

const FIXTURES = resolve(import.meta.dirname, '..', '..', 'packages', 'shopify', 'test', 'fixtures');
const fixture = (name: string) => readFileSync(resolve(FIXTURES, name), 'utf8');

/** The partial-refund fixture as it was before the refund (text edits: its id is above 2^53). */
function beforeRefund(): string {
  return fixture('orders-updated.partial-refund-us.json')
    .replace('"financial_status": "partially_refunded"', '"financial_status": "paid"')
    .replace('"updated_at": "2026-03-05T16:40:12-05:00"', '"updated_at": "2026-03-02T10:15:05-05:00"')
    .replace('"current_quantity": 1,', '"current_quantity": 4,')
    .replace('"current_subtotal_price": "47.50"', '"current_subtotal_price": "115.00"')
    .replace('"current_total_price": "52.50"', '"current_total_price": "120.00"')
    .replace(/"refunds": \[[\s\S]*\]\s*}\s*$/, '"refunds": []\n}\n');
}

test('the Orders board shows currencies, refunds and test orders, and filters test orders', async ({
  page,
}) => {
  await login(page, OWNER);
  await postWebhook(fixture('orders-create.order-discount-aud.json'));
  await postWebhook(beforeRefund());
  await postWebhook(fixture('orders-updated.partial-refund-us.json'), 'orders/updated');

  await go(page, 'Orders');
  const test = page.getByRole('article', { name: 'Order #AU1042' });
  await expect(test).toBeVisible();
  await expect(test).toContainText('Test order');
  await expect(test.locator('.order-total')).toHaveText('60.00 AUD');
  // The goods (60.00 AUD) at the order's own rate (69.95 AUD charged as 45.85 USD): shipping is not goods.
  await expect(test).toContainText("Goods in the customer's currency: 39.33 USD");
  await expect(test).toContainText('Tags: wholesale, vip');

  const refunded = page.getByRole('article', { name: 'Order #1187' });
  await expect(refunded.locator('.order-total')).toHaveText('47.50 USD');
  await expect(refunded).toContainText('Refunded 67.50 USD of 115.00 USD');
  await refunded.getByText('2 lines').click();
  await expect(refunded.getByText('(3 of 4 refunded)')).toBeVisible();
  await expect(refunded.getByText('TEE-BLK-M')).toBeVisible();
  // the refunded line: its amount before the refund, struck through, then what is left
  const tee = refunded.getByRole('listitem').filter({ hasText: 'TEE-BLK-M' });
  await expect(tee.locator('del')).toHaveText('90.00 USD');
  await expect(tee.locator('.line-amount')).toContainText('22.50 USD');
  await expect(refunded).not.toContainText('Test order');
  await screenshot(page, 'orders-currency-refunds-test');

  await page.getByLabel('Test orders').selectOption('exclude');
  await expect(test).toHaveCount(0);
  await expect(refunded).toBeVisible();
  await expect(page).toHaveURL(/\/orders\?test=exclude$/);
  await page.getByLabel('Test orders').selectOption('only');
  await expect(test).toBeVisible();
  await expect(refunded).toHaveCount(0);
  await expect(page).toHaveURL(/\/orders\?test=only$/);

  // The filter is in the URL: a reload (or a shared link) shows the same board.
  await page.reload();
  await expect(page.getByLabel('Test orders')).toHaveValue('only');
  await expect(test).toBeVisible();
  await expect(refunded).toHaveCount(0);
  await page.goto(page.url().replace('?test=only', '?test=exclude'));
  await expect(page.getByLabel('Test orders')).toHaveValue('exclude');
  await expect(refunded).toBeVisible();
  await expect(test).toHaveCount(0);
  await page.getByLabel('Test orders').selectOption('include');
  await expect(page).toHaveURL(/\/orders$/);
  await expect(test).toBeVisible();

  // Shopify asks for the buyer's personal data to be erased: the card says so and shows none of it.
  await expect(test).toContainText('Sydney');
  await postWebhook(
    '{"shop_id": 1, "shop_domain": "demo-store.myshopify.com", "customer": {"id": 7001, "email": "jane.doe@personal.example", "phone": null}, "orders_to_redact": [5512345678001]}',
    'customers/redact',
  );
  await expect(async () => {
    await page.reload();
    await expect(test).toContainText("Personal data erased at Shopify's request", { timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await expect(test).not.toContainText('Sydney');
  await expect(test).not.toContainText('Jane');
  await expect(test.locator('.order-total')).toHaveText('60.00 AUD');

  // The same order created again: its event says so.
  await postWebhook(fixture('orders-create.order-discount-aud.json'));
  await go(page, 'Sync status');
  await expect(
    page.getByRole('row').filter({ hasText: '5512345678001' }).filter({ hasText: 'imported already' }),
  ).toBeVisible();
});
