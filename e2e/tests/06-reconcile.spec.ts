import { expect, test } from '@playwright/test';
import { go, login, OWNER, screenshot } from '../support/helpers.ts';

test('a reconcile run shows progress and ends with the orders the webhooks missed imported', async ({
  page,
}) => {
  await login(page, OWNER);
  await go(page, 'Orders');
  await expect(page.getByRole('article', { name: 'Order #2044' })).toHaveCount(0);

  await go(page, 'Reconcile');
  // The fake store has orders of the last 3 days; the default start is a week ago.
  await page.getByRole('button', { name: 'Start reconcile' }).click();
  const progress = page.getByRole('progressbar');
  await expect(progress).toBeVisible();
  await expect(page.getByText('Finished', { exact: true })).toBeVisible({ timeout: 30_000 });
  await expect(progress).toHaveAttribute('value', '1');
  await expect(page.getByText(/\d+ missing orders? imported\./)).toBeVisible();
  await expect(page.locator('.progress-counts')).toContainText('5 orders seen');
  await screenshot(page, 'reconcile');

  await go(page, 'Orders');
  for (const name of ['#2044', '#2045', '#2046']) {
    await expect(page.getByRole('article', { name: `Order ${name}` })).toBeVisible();
  }
  // The cancelled one lands in the cancelled stage.
  await expect(
    page.getByRole('region', { name: /^Cancelado/ }).getByRole('article', { name: 'Order #2047' }),
  ).toBeVisible();
  await screenshot(page, 'orders-after-reconcile');
});
