/**
 * Slow and piled-up uploads over real HTTP: an anonymous client that opens uploads and sends them
 * slowly gets a bounded number of them read at once (beyond: 503 at once, connection closed), each
 * cut at the read deadline (408, connection closed), and Shopify's next delivery is acked once they
 * clear.
 */
import { connect, type Socket } from 'node:net';
import { signedWebhookHeaders } from '@crm/shopify';
import { describe, expect, it } from 'vitest';
import { createUploadGate } from '../src/webhooks/uploads.ts';
import { useWebhookRouteFixture } from './app-fixture.ts';
import { count, deliver, orderPayload, waitFor } from './webhook-support.ts';

const DEADLINE_MS = 1500;

const gate = createUploadGate({
  maxUploads: 3,
  maxUploadBytes: 64 * 1024,
  perAddressShare: 1, // the bounds on everyone's uploads; an address's share: webhook-upload-fairness
  readDeadlineMs: DEADLINE_MS,
});

const t = useWebhookRouteFixture({ route: { uploads: gate } });

type Stalled = { socket: Socket; opened: number; closed: Promise<{ ms: number; response: string }> };

/** Sends the headers of a signed delivery and the first bytes of its body, then nothing more. */
function stalledUpload(announced: number): Stalled {
  const order = orderPayload();
  const headers = signedWebhookHeaders(order.text, {
    topic: 'orders/create',
    shopDomain: t.shop.shopDomain,
    secret: t.shop.secret,
  });
  const port = t.port;
  const socket = connect(port, '127.0.0.1');
  const opened = performance.now();
  let response = '';
  socket.on('data', (d) => {
    response += d.toString();
  });
  socket.on('error', () => {});
  // Gives up on a server that never cuts it, so that such a server fails the test instead of hanging it.
  socket.setTimeout(DEADLINE_MS + 5000, () => socket.destroy());
  const closed = new Promise<{ ms: number; response: string }>((resolve) =>
    socket.on('close', () => resolve({ ms: performance.now() - opened, response })),
  );
  socket.write(
    [
      'POST /webhooks/shopify HTTP/1.1',
      'host: 127.0.0.1',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      `content-length: ${announced}`,
      '',
      order.text.slice(0, 100),
    ].join('\r\n'),
  );
  return { socket, opened, closed };
}

const eventsOf = (webhookId: string) => count(t.db.sql, 'webhook_events', 'external_id = $1', [webhookId]);

describe('uploads in flight', () => {
  it('beyond the bound → 503 at once; a stalled upload is cut at the deadline; then the delivery is acked', async () => {
    const stalled = [stalledUpload(5000), stalledUpload(5000), stalledUpload(5000)];
    await waitFor(async () => gate.inFlight === 3, { what: 'three uploads in flight', timeoutMs: 10_000 });

    const order = orderPayload();
    const delivery = {
      body: order.text,
      shopDomain: t.shop.shopDomain,
      secret: t.shop.secret,
      webhookId: `up-${order.id}`,
    };
    const refused = performance.now();
    const busy = await deliver(t.url, delivery);
    expect(busy.status).toBe(503);
    expect(busy.body).toEqual({ error: 'too many uploads in flight, retry later' });
    expect(performance.now() - refused).toBeLessThan(DEADLINE_MS);
    expect(await eventsOf(delivery.webhookId)).toBe(0);

    // A fourth slow upload is refused at once too, and its connection closed: nothing of it is kept.
    const refusedSlow = await stalledUpload(5000).closed;
    expect(refusedSlow.response).toMatch(/^HTTP\/1\.1 503 /);
    expect(refusedSlow.ms).toBeLessThan(DEADLINE_MS);

    // Each stalled upload: 408 at the deadline, and its connection closed by the server.
    for (const s of stalled) {
      const { ms, response } = await s.closed;
      expect(response).toMatch(/^HTTP\/1\.1 408 /);
      expect(response.toLowerCase()).toContain('connection: close');
      expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
      expect(ms).toBeLessThan(DEADLINE_MS + 3000);
    }
    expect(gate.inFlight).toBe(0);

    // Shopify retries the same delivery: acked and stored once.
    expect(await deliver(t.url, delivery)).toEqual({ status: 200, body: { ok: true, status: 'accepted' } });
    expect(await eventsOf(delivery.webhookId)).toBe(1);
  });

  it('bytes announced count too: one upload announcing the whole budget leaves no room for a second', async () => {
    const big = stalledUpload(64 * 1024);
    await waitFor(async () => gate.inFlight === 1, { what: 'the upload in flight', timeoutMs: 10_000 });
    const order = orderPayload();
    const delivery = {
      body: order.text,
      shopDomain: t.shop.shopDomain,
      secret: t.shop.secret,
      webhookId: `b-${order.id}`,
    };
    expect((await deliver(t.url, delivery)).status).toBe(503);
    big.socket.destroy(); // the client gives up: its slot is freed when the read fails
    await waitFor(async () => gate.inFlight === 0, { what: 'the slot to be freed', timeoutMs: 10_000 });
    expect((await deliver(t.url, delivery)).status).toBe(200);
    expect(gate.bytesInFlight).toBe(0);
  });
});
