import { expect, test } from '@playwright/test';
import { database, go, login, OWNER, orderPayload, postWebhook, screenshot } from '../support/helpers.ts';

// Should this test stop half-way, the integration must not keep pointing at the deleted pipeline
// (the tests after it need orders to land).
test.afterEach(async () => {
  const sql = database();
  try {
    await sql`
      update integrations i
      set config = jsonb_set(i.config, '{pipelineId}', to_jsonb(p.id::text)) - 'stageId'
      from pipelines p
      where p.workspace_id = i.workspace_id and p.name = 'Ventas Shopify'
        and not exists (select 1 from pipelines q where q.id::text = i.config->>'pipelineId')`;
  } finally {
    await sql.end();
  }
});

test('an event that failed because its pipeline was deleted is replayed after the owner picks another', async ({
  page,
}) => {
  const sql = database();
  try {
    // Someone created a second pipeline in the CRM…
    const [ws] = await sql<{ id: string }[]>`select id from workspaces where name = 'Demo Store'`;
    if (!ws) throw new Error('no Demo Store');
    const [pipeline] = await sql<{ id: string }[]>`
      insert into pipelines (workspace_id, name, position) values (${ws.id}, 'Mayoristas', 1) returning id`;
    if (!pipeline) throw new Error('no pipeline');
    await sql`insert into pipeline_stages (workspace_id, pipeline_id, name, position)
              values (${ws.id}, ${pipeline.id}, 'Por contactar', 0)`;

    // …the owner sends Shopify orders there…
    await login(page, OWNER);
    await go(page, 'Integration');
    const form = page.getByRole('form', { name: 'Store and settings' });
    await form.getByLabel('Pipeline').selectOption({ label: 'Mayoristas' });
    await form.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByText('Saved.')).toBeVisible();

    // …and later the pipeline is deleted. An order arrives.
    await sql`delete from pipelines where id = ${pipeline.id}`;
  } finally {
    await sql.end();
  }
  await postWebhook(orderPayload('orders-create.legacy-us.json', { id: '450789470', name: '#1002' }));

  await go(page, 'Sync status');
  await page.getByLabel('Status').selectOption('failed');
  // A failed event names no order (it was never applied): its error says what to fix.
  const row = page
    .getByRole('row')
    .filter({ hasText: 'The pipeline chosen for Shopify orders no longer exists' });
  await expect(row).toContainText('failed');
  await expect(row).toContainText('orders/create');
  await expect(page.getByRole('button', { name: /Replay all failed \(1\)/ })).toBeEnabled();
  await screenshot(page, 'sync-failed');
  await row.getByRole('link', { name: /Details/ }).click();
  await expect(page.getByRole('heading', { name: 'Error' })).toBeVisible();
  await expect(page.getByText('choose another on the integration page, then replay')).toBeVisible();

  // The owner fixes the cause: the page says the pipeline is gone; they pick Ventas Shopify.
  await go(page, 'Integration');
  const form = page.getByRole('form', { name: 'Store and settings' });
  await expect(form.getByText('The pipeline chosen before no longer exists.')).toBeVisible();
  await form.getByLabel('Pipeline').selectOption({ label: 'Ventas Shopify' });
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText('Saved.')).toBeVisible();

  // Replay: processed, and the order is there.
  await go(page, 'Sync status');
  await page.getByLabel('Status').selectOption('failed');
  await row.getByRole('button', { name: 'Replay' }).click();
  await expect(page.getByText('No events match these filters.')).toBeVisible();
  await page.getByLabel('Status').selectOption('processed');
  await expect(page.getByRole('row').filter({ hasText: '450789470' })).toContainText('processed');

  await go(page, 'Orders');
  await expect(
    page.getByRole('region', { name: /^Nuevo/ }).getByRole('article', { name: 'Order #1002' }),
  ).toBeVisible();
});
