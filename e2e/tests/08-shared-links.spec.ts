import { expect, test } from '@playwright/test';
import { go, login, OWNER } from '../support/helpers.ts';

test('a filtered event list is a link that names its workspace: reloaded or opened without the workspace, it shows the same list', async ({
  page,
}) => {
  await login(page, OWNER);
  await go(page, 'Sync status');
  await page.getByLabel('Status').selectOption('failed');
  await expect(page).toHaveURL(/\/w\/[0-9a-f-]{36}\/sync\?status=failed$/);
  const shared = page.url();

  await page.reload();
  await expect(page.getByLabel('Status')).toHaveValue('failed');

  // An old link without the workspace lands on the same list of the workspace last used.
  await page.goto('/sync?status=failed');
  await expect(page).toHaveURL(shared);
  await expect(page.getByLabel('Status')).toHaveValue('failed');

  // A hand-edited filter that means nothing is dropped, not an error.
  await page.goto(`${shared.replace(/\?.*$/, '')}?status=exploded`);
  await expect(page.getByLabel('Status')).toHaveValue('');
  await expect(page.getByRole('heading', { name: 'Recent events' })).toBeVisible();
});
