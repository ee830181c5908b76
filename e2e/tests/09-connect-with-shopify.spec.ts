/**
 * Connecting a store as Shopify works since 2026, in the browser against the fake: "Connect with
 * Shopify" through the grant screen, a Dev Dashboard app (client credentials) through the form, an
 * agent's read-only view, and no client secret, access or refresh token in any page's HTML.
 */
import { expect, type Page, test } from '@playwright/test';
import {
  addFakeShop,
  fakeStats,
  newWorkspace,
  postSignedWebhook,
  revokeOnFake,
  SHOPIFY_APP,
  storedSecrets,
  uninstallOnFake,
  usePipeline,
} from '../support/connect.ts';
import { AGENT, go, login, OWNER, orderPayload, screenshot } from '../support/helpers.ts';

const OAUTH_SHOP = 'e2e-connected.myshopify.com';
const CC_SHOP = 'e2e-own-app.myshopify.com';
const CC_ID = 'e2e0a61950a2cbd5f32876b0b55587ec';
const CC_SECRET = 'shpss_e2e_own_app_client_secret_abcdef0123';

let oauthWorkspace: string;
let ccWorkspace: string;

test.beforeAll(async () => {
  oauthWorkspace = await newWorkspace('Connected Boutique');
  ccWorkspace = await newWorkspace('Own App Boutique');
  await addFakeShop({ domain: OAUTH_SHOP, name: 'Connected Boutique' });
  await addFakeShop({
    domain: CC_SHOP,
    name: 'Own App Boutique',
    ownApps: [{ clientId: CC_ID, clientSecret: CC_SECRET }],
  });
});

async function expectNoSecretInHtml(page: Page, workspaceId: string, more: string[]): Promise<void> {
  const secrets = [...(await storedSecrets(workspaceId)), ...more];
  expect(secrets.length).toBeGreaterThan(1);
  const html = await page.content();
  for (const secret of secrets) expect(html).not.toContain(secret);
}

test('Connect with Shopify: approve on the grant screen, register webhooks, a signed order shows on the Orders board', async ({
  page,
}) => {
  await login(page, OWNER);
  await page.goto(`/w/${oauthWorkspace}/integration`);
  const connect = page.getByRole('form', { name: 'Connect with Shopify' });
  await connect.getByLabel('Shop domain').fill('e2e-connected');
  const grantsBefore = (await fakeStats()).grants.authorization_code ?? 0;

  // Cancelled on Shopify's screen: back with the reason, nothing stored.
  await connect.getByRole('button', { name: 'Connect with Shopify' }).click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByText('The install was cancelled on Shopify: nothing changed.')).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`/w/${oauthWorkspace}/integration`));
  await expect(page.getByTestId('connection-method')).toHaveCount(0);

  await connect.getByLabel('Shop domain').fill('e2e-connected');
  await connect.getByRole('button', { name: 'Connect with Shopify' }).click();

  // Shopify's grant screen (the fake's), for this shop and the app's scopes.
  await expect(page.getByRole('heading', { name: 'Install CRM Sync on Connected Boutique' })).toBeVisible();
  await expect(page.getByText(`It asks for: ${SHOPIFY_APP.scopes}`)).toBeVisible();
  await screenshot(page, 'connect-grant-screen');
  await page.getByRole('button', { name: 'Install' }).click();

  // Back on the integration page: connected, active, with an expiring token.
  await expect(page).toHaveURL(new RegExp(`/w/${oauthWorkspace}/integration`));
  await expect(page.getByText('Connected with Shopify.')).toBeVisible();
  await expect(page.getByTestId('connection-method')).toHaveText('Connect with Shopify');
  await expect(page.getByText('Active', { exact: true })).toBeVisible();
  await expect(page.getByText('Access token expires')).toBeVisible();
  expect((await fakeStats()).grants.authorization_code).toBe(grantsBefore + 1);

  await page.getByRole('button', { name: 'Register webhooks' }).click();
  await expect(page.getByText(/webhook subscriptions registered at/)).toBeVisible();
  await screenshot(page, 'connect-connected');
  await expectNoSecretInHtml(page, oauthWorkspace, [SHOPIFY_APP.apiSecret]);

  // Shopify sends an order, signed with the app's secret: it lands on the Orders board.
  await usePipeline(oauthWorkspace);
  await postSignedWebhook(
    orderPayload('orders-create.cod-co.json', { id: '5990000000000000901', name: '#E2E901' }),
    OAUTH_SHOP,
    SHOPIFY_APP.apiSecret,
  );
  await go(page, 'Orders');
  const card = page
    .getByRole('region', { name: /^Incoming/ })
    .getByRole('article', { name: 'Order #E2E901' });
  await expect(card).toBeVisible();
  await card.getByText(/\d+ lines?/).click();
  await expect(card.getByText('Shopify id 5990000000000000901')).toBeVisible();
});

test('a Dev Dashboard app: client ID and secret through the form, tested and saved', async ({ page }) => {
  await login(page, OWNER);
  await page.goto(`/w/${ccWorkspace}/integration`);
  const form = page.getByRole('form', { name: 'Dev Dashboard app' });
  await form.getByLabel('Shop domain').fill(CC_SHOP);
  await form.getByLabel('Client ID').fill(CC_ID);

  // A wrong secret: refused, nothing saved.
  await form.getByLabel('Client secret').fill('shpss_wrong_secret_000000000000000000000');
  await form.getByRole('button', { name: 'Test connection and save' }).click();
  await expect(form.getByRole('alert').or(form.locator('.field-error, .notice-error')).first()).toBeVisible();
  await expect(page.getByTestId('connection-method')).toHaveCount(0);

  await form.getByLabel('Client secret').fill(CC_SECRET);
  await form.getByRole('button', { name: 'Test connection and save' }).click();
  await expect(form.getByText(/Connected to Own App Boutique/)).toBeVisible();
  await expect(page.getByTestId('connection-method')).toHaveText(
    'Dev Dashboard app of your organization (client credentials)',
  );
  await expect(form.getByLabel('Client secret')).toHaveValue('');
  await page.getByRole('button', { name: 'Register webhooks' }).click();
  await expect(page.getByText(/webhook subscriptions registered at/)).toBeVisible();
  await screenshot(page, 'connect-client-credentials');
  await page.reload();
  await expect(page.getByTestId('connection-method')).toBeVisible();
  await expectNoSecretInHtml(page, ccWorkspace, [CC_SECRET]);
});

test('an agent sees the connection read-only, without a secret in the page', async ({ page }) => {
  await login(page, AGENT);
  await page.goto(`/w/${oauthWorkspace}/integration`);
  await expect(page.getByTestId('connection-method')).toHaveText('Connect with Shopify');
  await expect(page.getByText('Only the workspace owner can change this integration.').first()).toBeVisible();
  await expect(page.getByRole('form', { name: 'Connect with Shopify' })).toHaveCount(0);
  await expect(page.getByRole('form', { name: 'Dev Dashboard app' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Register webhooks' })).toBeDisabled();
  await screenshot(page, 'connect-agent');
  await expectNoSecretInHtml(page, oauthWorkspace, [SHOPIFY_APP.apiSecret]);
  expect((await fakeStats()).rest).toBe(0);
});

test('the Dev Dashboard app loses its access: Register webhooks fails and the card says needs reconnection, without a reload', async ({
  page,
}) => {
  await login(page, OWNER);
  await page.goto(`/w/${ccWorkspace}/integration`);
  await expect(page.getByTestId('connection-method')).toBeVisible();
  await expect(page.getByText('Needs reconnection.')).toHaveCount(0);
  await revokeOnFake(CC_SHOP, CC_ID);
  await page.getByRole('button', { name: 'Register webhooks' }).click();
  await expect(page.getByRole('alert').getByText('Shopify no longer accepts this connection')).toBeVisible();
  await expect(page.getByText('Needs reconnection.')).toBeVisible();
});

test('the merchant uninstalls the app on Shopify: the integration is disabled, then needs reconnection', async ({
  page,
}) => {
  await uninstallOnFake(OAUTH_SHOP, SHOPIFY_APP.apiKey);
  await login(page, OWNER);
  await page.goto(`/w/${oauthWorkspace}/integration`);
  // app/uninstalled arrived (signed with the app's secret), was stored and processed.
  await expect(page.getByText('Disabled', { exact: true })).toBeVisible({ timeout: 30_000 });
  // The owner is told at once, before any Admin call, and why.
  await expect(page.getByText('Needs reconnection.')).toBeVisible();
  await expect(page.getByText(/app was uninstalled from the store/)).toBeVisible();
  await page.getByRole('button', { name: 'Register webhooks' }).click();
  await expect(page.getByText('Shopify no longer accepts this connection')).toBeVisible();
  await expect(page.getByText('Needs reconnection.')).toBeVisible();
  await expect(
    page
      .getByRole('form', { name: 'Connect with Shopify' })
      .getByRole('button', { name: 'Reconnect with Shopify' }),
  ).toBeVisible();
  await screenshot(page, 'connect-needs-reconnection');
  await go(page, 'Sync status');
  await expect(page.getByRole('row').filter({ hasText: 'app/uninstalled' })).toContainText('processed');
});
