/**
 * Fairness of the upload bounds under slow-loris: one client address opening many uploads that
 * announce 2 MiB and then stall holds at most its share (half) of the bounds; Shopify's deliveries,
 * from another address, are all acked while those uploads are held. Production bounds (256 uploads,
 * 32 MiB, half per address), with a read deadline long enough that nothing stalled is cut during the
 * test.
 */
import { connect, type Socket } from 'node:net';
import { signedWebhookHeaders } from '@crm/shopify';
import { describe, expect, it } from 'vitest';
import { createUploadGate, DEFAULT_UPLOAD_LIMITS } from '../src/webhooks/uploads.ts';
import { useWebhookRouteFixture } from './app-fixture.ts';
import { count, deliver, orderPayload, waitFor } from './webhook-support.ts';

const ATTACKER = '127.0.0.2';
const ANNOUNCED = 2 * 1024 * 1024 - 1;

const gate = createUploadGate({ ...DEFAULT_UPLOAD_LIMITS, readDeadlineMs: 120_000 });

const t = useWebhookRouteFixture({ route: { uploads: gate } });

type Stalled = { socket: Socket; answer: Promise<string> };

/** From the attacker's address: the headers of a 2 MiB delivery and 1 KiB of its body, then nothing. */
function stalledUpload(): Stalled {
  const body = Buffer.alloc(1024, 'a');
  const headers = signedWebhookHeaders(body, {
    topic: 'orders/create',
    shopDomain: t.shop.shopDomain,
    secret: t.shop.secret,
  });
  const socket = connect({
    port: t.port,
    host: '127.0.0.1',
    localAddress: ATTACKER,
  });
  socket.on('error', () => {});
  let received = '';
  const answer = new Promise<string>((resolve) => {
    socket.on('data', (d: Buffer) => {
      received += d.toString('latin1');
    });
    socket.on('close', () => resolve(received));
  });
  socket.write(
    [
      'POST /webhooks/shopify HTTP/1.1',
      'host: 127.0.0.1',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      `content-length: ${ANNOUNCED}`,
      '',
      '',
    ].join('\r\n'),
  );
  socket.write(body);
  return { socket, answer };
}

describe('uploads stalled by one address', () => {
  it('hold at most half of the bounds; deliveries from another address are all acked meanwhile', async () => {
    const share = Math.floor(
      (DEFAULT_UPLOAD_LIMITS.maxUploadBytes * DEFAULT_UPLOAD_LIMITS.perAddressShare) / ANNOUNCED,
    );
    const stalled = Array.from({ length: 3 * share }, () => stalledUpload());
    // The attacker's share is taken; every upload of it beyond is refused at once (503, closed).
    await waitFor(async () => gate.inFlight === share, { what: "the attacker's share in flight" });
    const refused = await Promise.all(stalled.slice(share).map((s) => s.answer));
    for (const r of refused) expect(r).toMatch(/^HTTP\/1\.1 503 /);
    expect(gate.inFlight).toBe(share);

    // Shopify's deliveries, 4 at a time, while the stalled uploads are still held: all acked.
    const ids: string[] = [];
    for (let round = 0; round < 5; round++) {
      const answers = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const order = orderPayload();
          const webhookId = `fair-${order.id}`;
          ids.push(webhookId);
          return deliver(t.url, {
            body: order.text,
            shopDomain: t.shop.shopDomain,
            secret: t.shop.secret,
            webhookId,
          });
        }),
      );
      for (const a of answers) expect(a).toEqual({ status: 200, body: { ok: true, status: 'accepted' } });
    }
    expect(gate.inFlight).toBe(share); // the stalled ones were held throughout
    expect(await count(t.db.sql, 'webhook_events', 'external_id = any($1)', [ids])).toBe(20);

    for (const s of stalled.slice(0, share)) s.socket.destroy();
    await waitFor(async () => gate.inFlight === 0, { what: 'the stalled uploads to be released' });
    expect(gate.bytesInFlight).toBe(0);
  });
});
