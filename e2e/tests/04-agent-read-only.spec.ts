import { expect, test } from '@playwright/test';
import { AGENT, go, login, screenshot } from '../support/helpers.ts';

test('an agent sees the integration read-only, with the reason, and cannot save', async ({ page }) => {
  await login(page, AGENT);
  await go(page, 'Integration');
  await expect(page.getByText('Only the workspace owner can change this integration.').first()).toBeVisible();
  const form = page.getByRole('form', { name: 'Store and settings' });
  await expect(form.getByLabel('Shop domain')).toHaveValue('demo-store.myshopify.com');
  await expect(form.getByLabel('Shop domain')).toBeDisabled();
  await expect(form.getByLabel('Admin API access token')).toBeDisabled();
  await expect(form.getByLabel('Pipeline')).toBeDisabled();
  await expect(form.getByRole('button', { name: 'Test connection' })).toBeDisabled();
  await expect(form.getByRole('button', { name: 'Save' })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Delete integration…' })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Register webhooks' })).toBeDisabled();
  await screenshot(page, 'integration-agent');

  // The server refuses too: a save sent by hand with the agent's session.
  const refused = await page.evaluate(async () => {
    const res = await fetch('/trpc/integrations.save', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-trpc-source': 'web' },
      body: JSON.stringify({
        workspaceId: '00000000-0000-4000-8000-000000000000',
        config: { shopDomain: 'x' },
      }),
    });
    return res.status;
  });
  expect([403, 404]).toContain(refused);

  // Replaying and reconciling are the owner's too.
  await go(page, 'Sync status');
  await expect(page.getByText('Only the workspace owner can replay events.')).toBeVisible();
  await go(page, 'Reconcile');
  await expect(page.getByRole('button', { name: 'Start reconcile' })).toBeDisabled();
});
