import { expect, test } from '@playwright/test';
import { go, login, OWNER, orderPayload, postWebhook, screenshot } from '../support/helpers.ts';

test('a signed webhook: the order appears under Orders and the event under Sync status', async ({ page }) => {
  await login(page, OWNER);
  await postWebhook(orderPayload('orders-create.legacy-us.json'));

  await go(page, 'Orders');
  const column = page.getByRole('region', { name: /^Nuevo/ });
  const card = column.getByRole('article', { name: 'Order #1001' });
  await expect(card).toBeVisible();
  await expect(card).toContainText('Bob Norman');
  await card.getByText('3 lines').click();
  await expect(card.getByText('IPOD2008GREEN')).toBeVisible();
  await expect(card.getByText('Shopify id 450789469')).toBeVisible();
  await screenshot(page, 'orders');

  await go(page, 'Sync status');
  const row = page.getByRole('row').filter({ hasText: '450789469' });
  await expect(row).toContainText('orders/create');
  await expect(row).toContainText('processed');
  await expect(page.getByTestId('today-processed')).not.toHaveText('0');
  await expect(page.getByLabel('Webhook URL (paste it in Shopify)')).toHaveValue(/\/webhooks\/shopify$/);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.getByRole('button', { name: 'Copy' }).click();
  await expect(page.getByText(/Copied to the clipboard|Press Ctrl\+C/)).toBeVisible();
  await screenshot(page, 'sync-status');

  // Filters.
  await page.getByLabel('Status').selectOption('failed');
  await expect(page.getByText('No events match these filters.')).toBeVisible();
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.getByLabel('Topic').selectOption('orders/create');
  await expect(row).toBeVisible();

  await row.getByRole('link', { name: /Details/ }).click();
  await expect(page.getByRole('heading', { name: 'Event orders/create' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Raw payload' })).toContainText('"id": 450789469');
  await screenshot(page, 'event-detail');
});
