import { expect, test } from '@playwright/test';
import { go, login, OWNER, screenshot, TOKEN } from '../support/helpers.ts';

test('the owner configures the store against Shopify: a wrong token shows the reason, a right one the shop name, then saves', async ({
  page,
}) => {
  await login(page, OWNER);
  await expect(page.getByLabel('Workspace')).toHaveValue(/.+/);
  await expect(page.getByLabel('Workspace').locator('option:checked')).toHaveText('Demo Store (owner)');
  await go(page, 'Integration');
  const form = page.getByRole('form', { name: 'Store and settings' });

  // The stored credentials show only that they are set, and their last 4 characters only when the
  // secret is long enough for 4 to reveal little: the seeded signing secret (19 characters) shows none.
  await expect(form.getByText('set · …oken')).toBeVisible();
  await expect(form.getByText('…cret')).toHaveCount(0);

  // A domain that is not a myshopify.com domain: the reason, next to the field.
  const domain = form.getByLabel('Shop domain');
  await domain.fill('shop.example.com');
  await form.getByLabel('Admin API access token').fill('shpat_wrong_token_000000000000000000001234');
  await form.getByRole('button', { name: 'Test connection' }).click();
  await expect(domain).toHaveAttribute('aria-invalid', 'true');
  await expect(form.locator('.field-error')).toContainText('not a myshopify.com domain');

  // The handle alone is normalised; the wrong token is refused with Shopify's reason.
  await domain.fill('demo-store');
  await form.getByRole('button', { name: 'Test connection' }).click();
  const result = form.getByRole('status').filter({ hasText: 'Connection failed' });
  await expect(result).toContainText('rejected the access token');
  const save = form.getByRole('button', { name: 'Save' });
  await expect(save).toBeDisabled();
  await expect(
    form.getByText('Test the connection with this shop domain and token before saving.'),
  ).toBeVisible();

  // The right token: the shop's name.
  await form.getByLabel('Admin API access token').fill(TOKEN);
  await form.getByRole('button', { name: 'Test connection' }).click();
  await expect(form.getByText('Connected to Demo Store (demo-store.myshopify.com)')).toBeVisible();
  await expect(save).toBeEnabled();

  // A signing secret shorter than Shopify's: the server's reason lands beside that field, in its words.
  const secret = form.getByLabel('Webhook signing secret');
  await secret.fill('too-short-secret');
  await save.click();
  await expect(secret).toHaveAttribute('aria-invalid', 'true');
  await expect(form.locator('.field-error')).toHaveText(/^The webhook signing secret is too short/);
  await secret.fill('');
  await expect(secret).not.toHaveAttribute('aria-invalid', 'true');

  // Settings: display name, pipeline and stage (changing the pipeline resets the stage), matching.
  await form.getByLabel('Display name').fill('Demo Store Shopify');
  await form.getByLabel('Pipeline').selectOption({ label: 'Ventas Shopify' });
  await form.getByLabel('Stage').selectOption({ label: 'Nuevo' });
  await form.getByRole('radio', { name: /^SKU/ }).check();
  await expect(form.getByRole('checkbox', { name: /Fuzzy contact matching/ })).toBeChecked();
  await expect(form.getByRole('checkbox', { name: /Create orders automatically/ })).toBeChecked();
  await expect(form.getByLabel('Default phone country')).toHaveValue('CO');
  await screenshot(page, 'integration-tested');
  await save.click();
  await expect(page.getByText('Saved.')).toBeVisible();
  // The form reloads from the server: the domain normalised, the token write-only again.
  await expect(form.getByLabel('Shop domain')).toHaveValue('demo-store.myshopify.com');
  await expect(form.getByLabel('Admin API access token')).toHaveValue('');
  await expect(form.getByText('set · …oken')).toBeVisible();

  // Webhooks on the store, and their health.
  await page.getByRole('button', { name: 'Register webhooks' }).click();
  await expect(page.getByText(/webhook subscriptions registered at/)).toBeVisible();
  await page.getByRole('button', { name: 'Check subscriptions' }).click();
  await expect(page.getByText('Subscriptions are healthy.')).toBeVisible();
  await screenshot(page, 'integration');

  // Disable and enable again.
  await page.getByRole('button', { name: 'Disable integration' }).click();
  await expect(page.getByText('Disabled', { exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'Enable integration' }).click();
  await expect(page.getByText('Active', { exact: true })).toBeVisible();

  // Delete asks first; cancelling keeps everything.
  await page.getByRole('button', { name: 'Delete integration…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete the Shopify integration?' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await screenshot(page, 'integration-delete-dialog');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(page.getByText('Active', { exact: true })).toBeVisible();
});

test('the workspace switcher remembers the choice; where the owner is an agent the page is read-only', async ({
  page,
}) => {
  await login(page, OWNER);
  await go(page, 'Integration');
  await page.getByLabel('Workspace').selectOption({ label: 'Demo Outlet (agent)' });
  await expect(page.getByText('Only the workspace owner can change this integration.').first()).toBeVisible();
  await expect(page).toHaveURL(/\/w\/[0-9a-f-]{36}\/integration$/);
  const outlet = page.url();
  await page.reload();
  await expect(page.getByLabel('Workspace').locator('option:checked')).toHaveText('Demo Outlet (agent)');
  await page.goto('/');
  await expect(page).toHaveURL(outlet);
  await page.getByLabel('Workspace').selectOption({ label: 'Demo Store (owner)' });
  await expect(page.getByRole('button', { name: 'Test connection', exact: true })).toBeEnabled();
});
