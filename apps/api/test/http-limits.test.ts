/**
 * The HTTP surface's own limits (apps/api/src/security.ts): /trpc bodies capped at 64 KiB before they
 * are buffered, batches capped, and security headers on every response.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@crm/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRPC_MAX_BATCH, TRPC_MAX_BODY_BYTES } from '../src/security.ts';
import { arrangeWorld, type World } from './trpc-support.ts';

let db: TestDatabase;
let world: World;

beforeAll(async () => {
  db = await createTestDatabase();
  const webDist = mkdtempSync(join(tmpdir(), 'crm-web-'));
  writeFileSync(join(webDist, 'index.html'), '<!doctype html><title>t</title><div id="root"></div>');
  world = await arrangeWorld(db, { webDist });
});
afterAll(async () => {
  await world?.app.close();
  await db?.drop();
});

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: string };

/**
 * Starts a POST that announces (or, chunked, streams) a large body, sends only `sendBytes` of it, and
 * resolves with the answer the server gives while the rest is still unsent.
 */
function postPartly(
  path: string,
  options: { contentLength?: number; sendBytes: number },
): Promise<Answer & { sent: number }> {
  const url = new URL(path, world.app.url);
  return new Promise((resolve, reject) => {
    let sent = 0;
    const req = request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-trpc-source': 'test',
        ...(options.contentLength !== undefined ? { 'content-length': String(options.contentLength) } : {}),
      },
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, sent });
      });
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(16 * 1024, 'a');
    const pump = () => {
      while (sent < options.sendBytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      // Stop sending here, without ending the request: the answer must come anyway.
    };
    req.write('{"email":"');
    pump();
  });
}

describe('/trpc body limit', () => {
  it('a body announced larger than 64 KiB gets 413 at once, before it is sent', async () => {
    const r = await postPartly('/trpc/auth.login', {
      contentLength: 300 * 1024 * 1024,
      sendBytes: 32 * 1024,
    });
    expect(r.status).toBe(413);
    expect(r.sent).toBeLessThan(TRPC_MAX_BODY_BYTES);
    expect(JSON.parse(r.body)).toMatchObject({
      error: { message: 'The request is too large (at most 64 KiB).', data: { code: 'PAYLOAD_TOO_LARGE' } },
    });
    expect(r.headers['content-security-policy']).toBeDefined();
  });

  it('a chunked body is cut off at 64 KiB with 413, the rest never read', async () => {
    const r = await postPartly('/trpc/auth.login', { sendBytes: 256 * 1024 });
    expect(r.status).toBe(413);
    expect(r.sent).toBeLessThan(300 * 1024);
  });

  it('a body under the cap is served as usual', async () => {
    const res = await fetch(`${world.app.url}/trpc/auth.login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-trpc-source': 'test' },
      body: JSON.stringify({ email: 'owner@demo.test', password: 'x'.repeat(1000) }),
    });
    expect(res.status).toBe(401);
  });
});

describe('/trpc batch limit', () => {
  const batch = (n: number) =>
    fetch(
      `${world.app.url}/trpc/${Array.from({ length: n }, () => 'auth.me').join(',')}?batch=1&input=${encodeURIComponent('{}')}`,
    );

  it(`a batch of more than ${TRPC_MAX_BATCH} calls is refused with a clear error`, async () => {
    const res = await batch(TRPC_MAX_BATCH + 1);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: {
        message: `Too many calls in one request (at most ${TRPC_MAX_BATCH}).`,
        data: { code: 'BAD_REQUEST' },
      },
    });
    const posted = await fetch(`${world.app.url}/trpc/${Array(500).fill('auth.logout').join(',')}?batch=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-trpc-source': 'test' },
      body: '{}',
    });
    expect(posted.status).toBe(400);
  });

  it(`a batch of ${TRPC_MAX_BATCH} calls is answered call by call`, async () => {
    const res = await batch(TRPC_MAX_BATCH);
    const body = (await res.json()) as { error?: { data: { code: string } } }[];
    expect(body).toHaveLength(TRPC_MAX_BATCH);
    expect(body.every((b) => b.error?.data.code === 'UNAUTHORIZED')).toBe(true);
  });
});

describe('security headers', () => {
  const expectSecure = (res: Response) => {
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  };

  it('are on the SPA, /trpc (answers and refusals) and /webhooks/shopify', async () => {
    const spa = await fetch(`${world.app.url}/`);
    expect(spa.status).toBe(200);
    expectSecure(spa);
    expectSecure(await fetch(`${world.app.url}/orders/123`));
    expectSecure(await fetch(`${world.app.url}/trpc/auth.me`));
    expectSecure(await fetch(`${world.app.url}/trpc/auth.logout`, { method: 'POST' }));
    const webhook = await fetch(`${world.app.url}/webhooks/shopify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(webhook.status).toBeGreaterThanOrEqual(400);
    expectSecure(webhook);
    expectSecure(await fetch(`${world.app.url}/healthz`));
  });

  it('HSTS only when served over HTTPS', async () => {
    expect((await fetch(`${world.app.url}/`)).headers.get('strict-transport-security')).toBeNull();
    const { startTestApp } = await import('../src/testing/index.ts');
    const secure = await startTestApp(db, { secureCookies: true });
    try {
      const res = await fetch(`${secure.url}/trpc/auth.me`);
      expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    } finally {
      await secure.close();
    }
  });
});
