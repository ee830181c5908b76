/**
 * POST /webhooks/shopify over real HTTP against a real PostgreSQL: every status code of the spec, with
 * nothing stored for 401/400/413 and unknown or inactive shops; the event and its job committed
 * together before the 200; one JSON log line per delivery, never a secret.
 */
import { parseWebhookPayload, SHOPIFY_API_VERSION, signedWebhookHeaders } from '@crm/shopify';
import { beforeAll, describe, expect, it } from 'vitest';
import { useWebhookRouteFixture } from './app-fixture.ts';
import { captureLogger, count, createShop, deliver, orderPayload, sign } from './webhook-support.ts';

const t = useWebhookRouteFixture();
const log = captureLogger();
beforeAll(() => {
  t.app.deps.log = log;
});

const events = (where = 'true', params: unknown[] = []) => count(t.db.sql, 'webhook_events', where, params);
/** Events queued (pending), and jobs of any kind: a refused delivery adds neither. */
const jobs = async () => {
  const [row] = await t.db.sql<{ n: number }[]>`
    select (select count(*) from webhook_events where status = 'pending')::int
         + (select count(*) from graphile_worker.jobs)::int as n`;
  return row?.n ?? 0;
};

async function nothingStored<T>(fn: () => Promise<T>): Promise<T> {
  const [e, j] = [await events(), await jobs()];
  const result = await fn();
  expect(await events()).toBe(e);
  expect(await jobs()).toBe(j);
  return result;
}

describe('POST /webhooks/shopify', () => {
  it('stores a signed delivery, queued, and answers 200 after the commit', async () => {
    const order = orderPayload();
    const webhookId = `wh-${order.id}`;
    const res = await deliver(t.app.url, {
      body: order.text,
      shopDomain: t.shop.shopDomain,
      secret: t.shop.secret,
      webhookId,
    });
    expect(res).toEqual({ status: 200, body: { ok: true, status: 'accepted' } });
    const [event] = await t.db.sql<
      {
        id: string;
        status: string;
        topic: string;
        payload: string;
        workspace_id: string;
        headers: Record<string, string>;
        api_version: string;
        attempts: number;
      }[]
    >`select * from webhook_events where external_id = ${webhookId}`;
    expect(event).toMatchObject({
      status: 'pending',
      topic: 'orders/create',
      workspace_id: t.shop.workspaceId,
      api_version: SHOPIFY_API_VERSION,
      attempts: 0,
    });
    // The raw body, byte for byte: the id above 2^53 keeps every digit.
    expect(event?.payload).toBe(order.text);
    expect(event?.payload).toContain(`"id": ${order.id}`);
    expect(event?.headers['x-shopify-webhook-id']).toBe(webhookId);
    expect(JSON.stringify(event?.headers)).not.toMatch(/hmac/i);
    // The pending event is its own job: due now, held by no worker; no graphile-worker job.
    const [queued] = await t.db.sql<{ due: boolean; locked_by: string | null }[]>`
      select run_at <= now() as due, locked_by from webhook_events where id = ${event?.id ?? null}`;
    expect(queued).toEqual({ due: true, locked_by: null });
    expect(await count(t.db.sql, 'graphile_worker.jobs', 'true')).toBe(0);
  });

  it('takes a body that starts with a UTF-8 byte order mark and stores it byte for byte, readable by the worker', async () => {
    const order = orderPayload();
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(order.text, 'utf8')]);
    const webhookId = `bom-${order.id}`;
    const res = await deliver(t.app.url, {
      body: bytes,
      shopDomain: t.shop.shopDomain,
      secret: t.shop.secret,
      webhookId,
    });
    expect(res).toEqual({ status: 200, body: { ok: true, status: 'accepted' } });
    const [event] = await t.db.sql<{ payload: string }[]>`
      select payload from webhook_events where external_id = ${webhookId}`;
    expect(Buffer.from(event?.payload ?? '', 'utf8').equals(bytes)).toBe(true);
    // What the worker will read of it (it runs parseWebhookPayload on the stored text).
    const parsed = parseWebhookPayload('orders/create', event?.payload ?? '');
    expect(parsed.topic === 'orders/create' && parsed.payload.id).toBe(order.id);
  });

  it('answers a duplicate delivery 200 and stores nothing new', async () => {
    const order = orderPayload();
    const d = {
      body: order.text,
      shopDomain: t.shop.shopDomain,
      secret: t.shop.secret,
      webhookId: `dup-${order.id}`,
    };
    expect((await deliver(t.app.url, d)).status).toBe(200);
    const res = await nothingStored(() => deliver(t.app.url, d));
    expect(res).toEqual({ status: 200, body: { ok: true, status: 'duplicate' } });
  });

  it('401 without an HMAC header, nothing stored', async () => {
    const res = await nothingStored(() =>
      deliver(t.app.url, { body: orderPayload().text, shopDomain: t.shop.shopDomain }),
    );
    expect(res.status).toBe(401);
  });

  it('401 with a wrong HMAC, a malformed one, or one made with another secret; nothing stored', async () => {
    const body = orderPayload().text;
    for (const hmac of [sign(body, 'not-the-secret'), 'not base64!', sign(`${body} `, t.shop.secret), '']) {
      const res = await nothingStored(() =>
        deliver(t.app.url, {
          body,
          shopDomain: t.shop.shopDomain,
          headers: { 'X-Shopify-Hmac-Sha256': hmac },
        }),
      );
      expect(res.status).toBe(401);
    }
  });

  it('400 when the webhook id, the shop domain or the topic is missing; nothing stored', async () => {
    const body = orderPayload().text;
    for (const missing of ['x-shopify-webhook-id', 'x-shopify-shop-domain', 'x-shopify-topic']) {
      const res = await nothingStored(() =>
        deliver(t.app.url, {
          body,
          shopDomain: t.shop.shopDomain,
          secret: t.shop.secret,
          headers: { [missing]: null },
        }),
      );
      expect(res.status).toBe(400);
    }
  });

  it('200 ignored for an unknown shop and for a disabled one; nothing stored', async () => {
    const body = orderPayload().text;
    const unknown = await nothingStored(() =>
      deliver(t.app.url, { body, shopDomain: 'nobody-here.myshopify.com', secret: 'whatever' }),
    );
    expect(unknown).toEqual({ status: 200, body: { ok: true, status: 'ignored' } });

    const disabled = await createShop(t.db, { isActive: false });
    const res = await nothingStored(() =>
      deliver(t.app.url, { body, shopDomain: disabled.shopDomain, secret: disabled.secret }),
    );
    expect(res).toEqual({ status: 200, body: { ok: true, status: 'ignored' } });
  });

  it('finds the shop case-insensitively; header names are case-insensitive', async () => {
    const order = orderPayload();
    const res = await deliver(t.app.url, {
      body: order.text,
      shopDomain: t.shop.shopDomain.toUpperCase(),
      headers: { 'X-SHOPIFY-HMAC-SHA256': sign(order.text, t.shop.secret) },
    });
    expect(res.status).toBe(200);
  });

  it('413 over 2 MiB, announced by Content-Length or streamed without it; nothing stored', async () => {
    const big = `{"pad":"${'x'.repeat(2 * 1024 * 1024)}"}`;
    const announced = await nothingStored(() =>
      deliver(t.app.url, { body: big, shopDomain: t.shop.shopDomain, secret: t.shop.secret }),
    );
    expect(announced.status).toBe(413);

    const streamed = await nothingStored(async () => {
      const bytes = new TextEncoder().encode(big);
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.slice(i, i + 64 * 1024));
          controller.close();
        },
      });
      const res = await fetch(`${t.app.url}/webhooks/shopify`, {
        method: 'POST',
        headers: signedWebhookHeaders(big, {
          topic: 'orders/create',
          shopDomain: t.shop.shopDomain,
          webhookId: 'streamed-big',
          secret: t.shop.secret,
        }),
        body,
        duplex: 'half',
      } as RequestInit);
      return res.status;
    });
    expect(streamed).toBe(413);
  });

  it('a body of exactly 2 MiB is taken', async () => {
    const prefix = '{"id":1,"pad":"';
    const suffix = '"}';
    const body = `${prefix}${'x'.repeat(2 * 1024 * 1024 - prefix.length - suffix.length)}${suffix}`;
    expect(Buffer.byteLength(body)).toBe(2 * 1024 * 1024);
    const res = await deliver(t.app.url, { body, shopDomain: t.shop.shopDomain, secret: t.shop.secret });
    expect(res.status).toBe(200);
  });

  it('400 for a signed body that is not JSON, stored as a failed event an owner can read, no job', async () => {
    const jobsBefore = await jobs();
    const res = await deliver(t.app.url, {
      body: '{"id": 1, oops',
      shopDomain: t.shop.shopDomain,
      secret: t.shop.secret,
      webhookId: 'not-json',
    });
    expect(res.status).toBe(400);
    const [event] = await t.db.sql<{ status: string; last_error: string; payload: string }[]>`
      select status, last_error, payload from webhook_events where external_id = 'not-json'`;
    expect(event).toEqual({
      status: 'failed',
      last_error: 'Shopify sent a body that is not valid JSON, so it could not be read.',
      payload: '{"id": 1, oops',
    });
    expect(await jobs()).toBe(jobsBefore);
  });

  it('400 for a signed body that is not JSON and not even UTF-8 (or has NUL bytes), stored failed', async () => {
    const bytes = new Uint8Array([0x7b, 0xff, 0x00, 0x7d]);
    const res = await deliver(t.app.url, {
      body: bytes,
      shopDomain: t.shop.shopDomain,
      secret: t.shop.secret,
      webhookId: 'not-utf8',
    });
    expect(res.status).toBe(400);
    expect(await events(`external_id = 'not-utf8' and status = 'failed'`)).toBe(1);
  });

  it('accepts the previous secret during a rotation, and not once it has expired', async () => {
    const rotating = await createShop(t.db, {
      previousSecret: { secret: 'old-secret', expiresAt: new Date(Date.now() + 3600_000) },
    });
    const expired = await createShop(t.db, {
      previousSecret: { secret: 'old-secret', expiresAt: new Date(Date.now() - 1000) },
    });
    const body = orderPayload().text;
    expect(
      (await deliver(t.app.url, { body, shopDomain: rotating.shopDomain, secret: 'old-secret' })).status,
    ).toBe(200);
    expect(
      (await deliver(t.app.url, { body, shopDomain: rotating.shopDomain, secret: rotating.secret })).status,
    ).toBe(200);
    const res = await nothingStored(() =>
      deliver(t.app.url, { body, shopDomain: expired.shopDomain, secret: 'old-secret' }),
    );
    expect(res.status).toBe(401);
  });

  it('takes compliance topics from a disabled integration (a legal obligation), not orders', async () => {
    const disabled = await createShop(t.db, { isActive: false });
    const body = JSON.stringify({ shop_id: 1, shop_domain: disabled.shopDomain });
    const res = await deliver(t.app.url, {
      body,
      topic: 'shop/redact',
      shopDomain: disabled.shopDomain,
      secret: disabled.secret,
    });
    expect(res).toEqual({ status: 200, body: { ok: true, status: 'accepted' } });
  });

  it('503 when the database cannot take the event (the insert fails), nothing stored', async () => {
    await t.db.sql`revoke insert on webhook_events from app_worker`;
    try {
      const res = await nothingStored(() =>
        deliver(t.app.url, {
          body: orderPayload().text,
          shopDomain: t.shop.shopDomain,
          secret: t.shop.secret,
        }),
      );
      expect(res.status).toBe(503);
    } finally {
      await t.db.sql`grant insert on webhook_events to app_worker`;
    }
  });

  it('logs one JSON-able line per delivery with shop, topic, webhook id, outcome and ms; never a secret', async () => {
    log.lines.length = 0;
    const order = orderPayload();
    await deliver(t.app.url, {
      body: order.text,
      shopDomain: t.shop.shopDomain,
      secret: t.shop.secret,
      webhookId: 'logged',
    });
    await deliver(t.app.url, {
      body: order.text,
      shopDomain: t.shop.shopDomain,
      secret: 'wrong',
      webhookId: 'logged-2',
    });
    const lines = log.lines.filter((l) => l.msg === 'webhook');
    expect(lines).toHaveLength(2);
    expect(lines[0]?.fields).toMatchObject({
      shop: t.shop.shopDomain,
      topic: 'orders/create',
      webhookId: 'logged',
      outcome: 'accepted',
      status: 200,
    });
    expect(typeof lines[0]?.fields.ms).toBe('number');
    expect(lines[1]?.fields).toMatchObject({ webhookId: 'logged-2', outcome: 'bad_hmac', status: 401 });
    const all = JSON.stringify(log.lines);
    expect(all).not.toContain(t.shop.secret);
    expect(all).not.toContain(sign(order.text, t.shop.secret));
    expect(all).not.toContain('maria.lopez@example.com');
  });
});
