/**
 * An install that starts on Shopify's side: Shopify opens the app URL with shop, host, timestamp and
 * hmac. Signed out, the person signs in first and comes back to the install, picks a workspace they
 * own, approves on Shopify's grant screen and lands on that workspace's integration page. A forged
 * link is refused with the reason.
 */
import { expect, test } from '@playwright/test';
import { addFakeShop, installLink, newWorkspace, SHOPIFY_APP, storedSecrets } from '../support/connect.ts';
import { OWNER, PASSWORD, screenshot } from '../support/helpers.ts';

const SHOP = 'e2e-installed.myshopify.com';

test('signed out, the owner signs in, picks a workspace and approves: the store is connected there', async ({
  page,
}) => {
  const workspaceId = await newWorkspace('Installed Boutique');
  await addFakeShop({ domain: SHOP, name: 'Installed Boutique' });

  await page.goto(installLink(SHOPIFY_APP.apiSecret, SHOP));
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.getByLabel('Email').fill(OWNER);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();

  // Back on the install: only the workspaces this person owns are offered.
  await expect(page.getByRole('heading', { name: `Connect ${SHOP}` })).toBeVisible();
  const choose = page.getByRole('form', { name: 'Choose a workspace' });
  await expect(choose.getByRole('radio', { name: 'Installed Boutique' })).toBeVisible();
  await expect(choose.getByRole('radio', { name: 'Demo Outlet' })).toHaveCount(0); // an agent there
  await choose.getByRole('radio', { name: 'Installed Boutique' }).check();
  await screenshot(page, 'install-choose-workspace');
  await choose.getByRole('button', { name: 'Continue to Shopify' }).click();

  await expect(page.getByRole('heading', { name: 'Install CRM Sync on Installed Boutique' })).toBeVisible();
  await page.getByRole('button', { name: 'Install' }).click();
  await expect(page).toHaveURL(new RegExp(`/w/${workspaceId}/integration`));
  await expect(page.getByTestId('connection-method')).toHaveText('Connect with Shopify');
  const html = await page.content();
  for (const secret of [...(await storedSecrets(workspaceId)), SHOPIFY_APP.apiSecret]) {
    expect(html).not.toContain(secret);
  }
});

test('a link not signed with the app secret is refused with the reason', async ({ page }) => {
  const forged = installLink('shpss_someone_else', SHOP);
  await page.goto(forged);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.getByLabel('Email').fill(OWNER);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByText('This install link is not signed by Shopify')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Continue to Shopify' })).toHaveCount(0);
});
