import { expect, test } from '@playwright/test';
import { go, login, OWNER, orderPayload, postWebhook, screenshot } from '../support/helpers.ts';

test('a fuzzy match appears in Contact reviews and merging it moves the order', async ({ page }) => {
  await login(page, OWNER);
  // The COD order's customer looks like the seeded "Maria Jose Lopez Gutierrez" (Bogota, another phone).
  await postWebhook(orderPayload('orders-create.cod-co.json'));

  await go(page, 'Orders');
  const card = page.getByRole('article', { name: 'Order #2043' });
  await expect(card).toContainText('María José López Gutiérrez');

  await go(page, 'Contact reviews');
  const review = page.getByRole('article', { name: /Order #2043/ });
  await expect(review).toBeVisible();
  const fresh = review.getByRole('region', { name: 'New contact from this order' });
  const existing = review.getByRole('region', { name: 'Existing contact' });
  await expect(fresh).toContainText('María José López Gutiérrez');
  await expect(fresh).toContainText('+573001234567');
  await expect(existing).toContainText('Maria Jose Lopez Gutierrez');
  await expect(existing).toContainText('+573007654321');
  await screenshot(page, 'contact-reviews');

  await review.getByRole('button', { name: 'Merge into existing contact' }).click();
  await expect(page.getByText('Merged. 1 order moved to the existing contact.')).toBeVisible();
  await expect(page.getByText('Nothing to review.')).toBeVisible();

  await go(page, 'Orders');
  await expect(page.getByRole('article', { name: 'Order #2043' })).toContainText(
    'Maria Jose Lopez Gutierrez',
  );
});
