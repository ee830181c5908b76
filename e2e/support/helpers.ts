import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createSql, type Sql } from '@crm/db';
import { signedWebhookHeaders } from '@crm/shopify';
import { expect, type Page } from '@playwright/test';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SCREENSHOTS = join(ROOT, 'e2e', 'screenshots');

export const PASSWORD = 'demo-password';
export const OWNER = 'owner@demo.test';
export const ADMIN = 'admin@demo.test';
export const AGENT = 'agent@demo.test';
export const SHOP = 'demo-store.myshopify.com';
export const TOKEN = 'shpat_0000000000_demo_store_token';
export const WEBHOOK_SECRET = 'demo-webhook-secret';

export function baseUrl(): string {
  const url = process.env.E2E_BASE_URL;
  if (!url)
    throw new Error('E2E_BASE_URL is not set: run through playwright (its global setup starts the app)');
  return url;
}

/** A superuser pool on the test database, to arrange what another part of the CRM would do. */
export function database(): Sql {
  const url = process.env.E2E_DATABASE_URL;
  if (!url) throw new Error('E2E_DATABASE_URL is not set');
  return createSql(url, { max: 1 });
}

export async function login(page: Page, email: string): Promise<void> {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
}

export async function go(
  page: Page,
  link: 'Integration' | 'Sync status' | 'Reconcile' | 'Contact reviews' | 'Orders',
) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).click();
  await expect(page.getByRole('link', { name: link, exact: true })).toHaveAttribute('aria-current', 'page');
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

type Fixture = 'orders-create.cod-co.json' | 'orders-create.legacy-us.json';

/**
 * A fixture's raw JSON (big ids kept as written), optionally as another order: the top-level id and
 * name replaced in the text, so nothing goes through a JS number.
 */
export function orderPayload(fixture: Fixture, change?: { id: string; name: string }): string {
  let raw = readFileSync(join(ROOT, 'apps/fake-shopify/src/fixtures', fixture), 'utf8');
  if (change) {
    const idMatch = /^ {2}"id": (\d+),$/m.exec(raw);
    const nameMatch = /^ {2}"name": "([^"]+)",$/m.exec(raw);
    if (!idMatch?.[1] || !nameMatch?.[1]) throw new Error(`cannot find the top-level id/name of ${fixture}`);
    raw = raw
      .replace(idMatch[0], `  "id": ${change.id},`)
      .replace(
        `"admin_graphql_api_id": "gid://shopify/Order/${idMatch[1]}"`,
        `"admin_graphql_api_id": "gid://shopify/Order/${change.id}"`,
      )
      .replace(nameMatch[0], `  "name": "${change.name}",`);
  }
  return raw;
}

/** Posts a payload to the app exactly as Shopify does: signed raw bytes and Shopify's headers. */
export async function postWebhook(
  body: string,
  topic = 'orders/create',
  secret = WEBHOOK_SECRET,
): Promise<string> {
  const webhookId = randomUUID();
  const res = await fetch(`${baseUrl()}/webhooks/shopify`, {
    method: 'POST',
    headers: signedWebhookHeaders(body, { topic, shopDomain: SHOP, secret, webhookId }),
    body,
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return webhookId;
}
