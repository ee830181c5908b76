// npm run webhook:send -- <payload.json> [--topic orders/create] [--url http://localhost:3000/webhooks/shopify]
//                         [--shop demo-store.myshopify.com] [--secret ...]
// Signs a payload with the integration's webhook secret and posts it as Shopify would, with a fresh
// X-Shopify-Webhook-Id each run. Prints the status and the body; exits non-zero unless 2xx.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { signedWebhookHeaders } from '@crm/shopify';

const USAGE =
  'usage: npm run webhook:send -- <payload.json> [--topic orders/create] [--url http://localhost:3000/webhooks/shopify] ' +
  '[--shop demo-store.myshopify.com] [--secret <webhook signing secret>] [--webhook-id <id>]';

/** orders-create.cod-co.json → orders/create; orders-updated.json → orders/updated. */
export function topicFromFileName(file: string): string | null {
  const m = /^(orders|customers|shop|app)-([a-z_]+)/.exec(basename(file));
  return m ? `${m[1]}/${m[2]}` : null;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      topic: { type: 'string' },
      url: { type: 'string' },
      shop: { type: 'string' },
      secret: { type: 'string' },
      'webhook-id': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const file = positionals[0];
  if (values.help || !file) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  // npm runs workspace scripts in the workspace's folder: paths are relative to where npm was run.
  const path = resolve(process.env.INIT_CWD ?? process.cwd(), file);
  const raw = await readFile(path);
  const topic = values.topic ?? topicFromFileName(path) ?? 'orders/create';
  const url = values.url ?? `http://localhost:${process.env.PORT ?? 3000}/webhooks/shopify`;
  const shop = values.shop ?? 'demo-store.myshopify.com';
  const secret = values.secret ?? process.env.DEMO_SHOPIFY_SECRET ?? 'demo-webhook-secret';
  const webhookId = values['webhook-id'] ?? randomUUID();

  const response = await fetch(url, {
    method: 'POST',
    headers: signedWebhookHeaders(raw, {
      topic,
      shopDomain: shop,
      secret,
      webhookId,
      ...(process.env.SHOPIFY_API_VERSION ? { apiVersion: process.env.SHOPIFY_API_VERSION } : {}),
    }),
    body: raw,
  }).catch((error: unknown) => {
    console.error(`could not reach ${url}: ${(error as Error).message}`);
    return null;
  });
  if (!response) return 1;
  const body = await response.text();
  console.log(`${response.status} ${response.statusText}  (${topic}, webhook id ${webhookId})`);
  if (body) console.log(body);
  return response.ok ? 0 : 1;
}

process.exitCode = await main();
