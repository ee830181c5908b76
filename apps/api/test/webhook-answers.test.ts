/**
 * Every webhook request gets an HTTP answer over a real connection, whatever its body: the fuzz
 * bench once saw no answer for a body starting with a UTF-8 byte order mark and for truncated JSON.
 * Those requests followed, on the same keep-alive connection, a body over 2 MiB: answered 413 before
 * it was read, the connection announced as kept, then dropped by @hono/node-server when the rest of
 * the body took over 500 ms to drain — with the next request already written on it.
 */
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { signedWebhookHeaders } from '@crm/shopify';
import { afterAll, describe, expect, it } from 'vitest';
import { useWebhookRouteFixture } from './app-fixture.ts';
import { orderPayload } from './webhook-support.ts';

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

const t = useWebhookRouteFixture({ route: {} });

afterAll(() => agent.destroy());

function post(body: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      `${t.url}/webhooks/shopify`,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

describe('every webhook request is answered', () => {
  it('a body with a byte order mark, truncated JSON: signed, unsigned or wrongly signed, 8 at a time', async () => {
    const order = Buffer.from(orderPayload().text);
    const bodies = [
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), order]),
      ...Array.from({ length: 6 }, (_, i) => order.subarray(0, Math.floor((order.length * (i + 1)) / 7))),
    ];
    const cases = bodies.flatMap((body, i) =>
      ['good', 'none', 'wrong'].map((sig, j) => {
        const headers = signedWebhookHeaders(body, {
          topic: 'orders/create',
          shopDomain: t.shop.shopDomain,
          webhookId: `ans-${i}-${j}`,
          ...(sig === 'good' ? { secret: t.shop.secret } : sig === 'wrong' ? { secret: 'wrong' } : {}),
        });
        return { body, headers, expected: sig === 'good' ? [200, 400] : [401] };
      }),
    );
    const statuses = await Promise.all(
      Array.from({ length: 4 }, () => cases)
        .flat()
        .map(async (c) => ({ status: await post(c.body, c.headers), expected: c.expected })),
    );
    for (const { status, expected } of statuses) expect(expected).toContain(status);
  });
});

/** A raw HTTP/1.1 connection: what arrives on it, and whether it is closed. */
function rawConnection() {
  const socket = connect(t.port, '127.0.0.1');
  let received = '';
  let closed = false;
  const waiters: (() => void)[] = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  socket.on('data', (d: Buffer) => {
    received += d.toString('latin1');
    wake();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    wake();
  });
  /** The nth response's status line and headers (lower case), or null when the connection closes first. */
  const response = async (nth: number): Promise<string | null> => {
    for (;;) {
      const heads = received.split(/(?=HTTP\/1\.1 \d{3} )/).filter((r) => r.includes('\r\n\r\n'));
      const head = heads[nth - 1];
      if (head) return head.slice(0, head.indexOf('\r\n\r\n')).toLowerCase();
      if (closed) return null;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { socket, response, closed: () => closed };
}

describe('a body over 2 MiB', () => {
  const headers = () => signedWebhookHeaders('{}', { topic: 'orders/create', shopDomain: t.shop.shopDomain });
  const head = (length: number) =>
    [
      'POST /webhooks/shopify HTTP/1.1',
      'host: 127.0.0.1',
      ...Object.entries(headers()).map(([k, v]) => `${k}: ${v}`),
      `content-length: ${length}`,
      '',
      '',
    ].join('\r\n');

  it('→ 413; a client told the connection is kept gets its next request on it answered', async () => {
    const big = 3 * 1024 * 1024;
    const conn = rawConnection();
    conn.socket.setTimeout(20_000, () => conn.socket.destroy()); // a server that never answers fails, not hangs
    // A slow client: the rest of the body comes after @hono/node-server's 500 ms drain of an unread body.
    conn.socket.write(head(big) + ' '.repeat(1024));
    await new Promise((resolve) => setTimeout(resolve, 800));
    conn.socket.write(' '.repeat(big - 1024));
    const first = await conn.response(1);
    expect(first).toMatch(/^http\/1\.1 413 /);
    if (first && /\r\nconnection: *close/.test(first)) {
      // Told it closes: the client sends nothing more on it.
      await new Promise<void>((resolve) => (conn.closed() ? resolve() : conn.socket.once('close', resolve)));
      return;
    }
    conn.socket.write(`${head(2)}{}`);
    expect((await conn.response(2)) ?? 'the connection closed without an answer').toMatch(/^http\/1\.1 401 /);
    conn.socket.destroy();
  });

  it('announced over 8 MiB → 413 at once, without reading it, and the connection closed', async () => {
    const conn = rawConnection();
    conn.socket.setTimeout(20_000, () => conn.socket.destroy());
    conn.socket.write(head(9 * 1024 * 1024) + ' '.repeat(1024));
    const first = await conn.response(1);
    expect(first).toMatch(/^http\/1\.1 413 /);
    expect(first).toMatch(/\r\nconnection: *close/);
    await new Promise<void>((resolve) => (conn.closed() ? resolve() : conn.socket.once('close', resolve)));
  });
});
