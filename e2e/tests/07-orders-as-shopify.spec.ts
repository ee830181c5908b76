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
  await expect(test).toContainText('Customer pays 45.85 USD');
  await expect(test).toContainText('Tags: wholesale, vip');

  const refunded = page.getByRole('article', { name: 'Order #1187' });
  await expect(refunded.locator('.order-total')).toHaveText('47.50 USD');
  await expect(refunded).toContainText('Refunded 67.50 USD of 115.00 USD');
  await refunded.getByText('2 lines').click();
  await expect(refunded.getByText('(3 of 4 refunded)')).toBeVisible();
  await expect(refunded.getByText('TEE-BLK-M')).toBeVisible();
  await expect(refunded).not.toContainText('Test order');
  await screenshot(page, 'orders-currency-refunds-test');

  await page.getByLabel('Test orders').selectOption('exclude');
  await expect(test).toHaveCount(0);
  await expect(refunded).toBeVisible();
  await page.getByLabel('Test orders').selectOption('only');
  await expect(test).toBeVisible();
  await expect(refunded).toHaveCount(0);

  // The same order created again: its event says so.
  await postWebhook(fixture('orders-create.order-discount-aud.json'));
  await go(page, 'Sync status');
  await expect(
    page.getByRole('row').filter({ hasText: '5512345678001' }).filter({ hasText: 'imported already' }),
  ).toBeVisible();
});
