/**
 * Fuzz of POST /webhooks/shopify against the real server: random headers (missing, empty, duplicated,
 * odd case, huge, non-ASCII), bodies (binary, invalid UTF-8, NUL, UTF-16, BOM, deep nesting, huge
 * numbers, empty, over 2 MiB, chunked), encodings, and signatures (none, garbage, wrong secret, other
 * body, valid). Passes when no answer is a 5xx while the database is up, only 503 while it is down
 * (the bench database refuses connections and the app's sessions are terminated), and every stored
 * event is one that was validly signed, with the bytes that were signed.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { deflateSync, gzipSync } from 'node:zlib';
import { createSql, type Sql } from '@crm/db';
import { signShopifyWebhook } from '@crm/shopify';
import { startApi } from '../lib/app.ts';
import { adminUrl, createBenchDatabase, DEMO_SECRET, DEMO_SHOP } from '../lib/db.ts';
import type { BenchOptions } from '../lib/options.ts';
import { type SectionReport, stamp } from '../lib/report.ts';
import { markdownTable, pick, rng, sleep } from '../lib/stats.ts';
import { orderPayload, post, randomOrder } from '../lib/webhooks.ts';

type Case = {
  kind: string;
  body: Buffer;
  headers: Record<string, string>;
  validlySigned: boolean;
  id: string;
};

const TOPICS = [
  'orders/create',
  'orders/updated',
  'orders/paid',
  'orders/cancelled',
  'app/uninstalled',
  'x',
  '',
];

function bodies(random: () => number, n: number): { kind: string; body: Buffer } {
  const order = orderPayload(randomOrder(random, n, 9, 0, 5));
  const k = Math.floor(random() * 14);
  switch (k) {
    case 0:
      return { kind: 'binary', body: randomBytes(Math.floor(random() * 4096)) };
    case 1:
      return {
        kind: 'invalid utf-8',
        body: Buffer.concat([order.subarray(0, 50), Buffer.from([0xc3, 0x28, 0xff])]),
      };
    case 2:
      return { kind: 'NUL bytes in JSON', body: Buffer.from(`{"id":"1","note":"a\u0000b","x":"\u0000"}`) };
    case 3:
      return { kind: 'UTF-16LE JSON', body: Buffer.from(order.toString('utf8'), 'utf16le') };
    case 4:
      return { kind: 'BOM + JSON', body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), order]) };
    case 5:
      return { kind: 'deep nesting', body: Buffer.from(`${'['.repeat(5000)}${']'.repeat(5000)}`) };
    case 6:
      return {
        kind: 'huge numbers',
        body: Buffer.from(`{"id":${'9'.repeat(400)},"total_price":1e400,"line_items":[]}`),
      };
    case 7:
      return { kind: 'empty', body: Buffer.alloc(0) };
    case 8:
      return { kind: 'over 2 MiB', body: Buffer.alloc(2 * 1024 * 1024 + 10, 0x20) };
    case 9:
      return { kind: 'gzip body', body: gzipSync(order) };
    case 10:
      return { kind: 'deflate body', body: deflateSync(order) };
    case 11:
      return { kind: 'truncated JSON', body: order.subarray(0, Math.floor(random() * order.length)) };
    case 12:
      return {
        kind: 'wrong types',
        body: Buffer.from('{"id":{"a":[]},"line_items":"no","customer":7,"phone":[1]}'),
      };
    default:
      return { kind: 'valid order', body: order };
  }
}

function makeCase(random: () => number, n: number): Case {
  const { kind, body } = bodies(random, n);
  const id = `fuzz-${n}`;
  const headers: Record<string, string> = {
    'content-type': pick(random, ['application/json', 'text/plain', 'application/octet-stream', '']),
    'x-shopify-topic': pick(random, TOPICS),
    'x-shopify-shop-domain': pick(random, [DEMO_SHOP, DEMO_SHOP.toUpperCase(), 'unknown.myshopify.com', '']),
    'x-shopify-webhook-id': id,
    'x-shopify-api-version': '2025-10',
    'x-shopify-triggered-at': pick(random, [new Date().toISOString(), 'yesterday', '99999-99-99']),
  };
  const sig = Math.floor(random() * 7);
  let validlySigned = false;
  if (sig === 0) {
    // no signature
  } else if (sig === 1) headers['x-shopify-hmac-sha256'] = randomBytes(32).toString('base64');
  else if (sig === 2) headers['x-shopify-hmac-sha256'] = signShopifyWebhook(body, 'wrong-secret');
  else if (sig === 3)
    headers['x-shopify-hmac-sha256'] = signShopifyWebhook(Buffer.from('other'), DEMO_SECRET);
  else if (sig === 4)
    headers['x-shopify-hmac-sha256'] = pick(random, ['', '=', '%%%', 'a'.repeat(5000), 'é']);
  else {
    headers['x-shopify-hmac-sha256'] = signShopifyWebhook(body, DEMO_SECRET);
    validlySigned = true;
  }
  const h = Math.floor(random() * 8);
  if (h === 0) delete headers['x-shopify-webhook-id'];
  if (h === 1) delete headers['x-shopify-topic'];
  if (h === 2) headers['x-shopify-webhook-id'] = 'a'.repeat(1 + Math.floor(random() * 8000));
  if (h === 3) headers['content-encoding'] = pick(random, ['gzip', 'deflate', 'br', 'identity', 'x-unknown']);
  if (h === 4) headers['X-SHOPIFY-EVENT-ID'] = randomBytes(8).toString('hex');
  if (h === 5) headers['x-shopify-event-id'] = '';
  return { kind, body, headers, validlySigned, id: headers['x-shopify-webhook-id'] ?? '' };
}

/** A raw HTTP/1.1 request with bytes no well-behaved client sends; resolves the status (0: none). */
function raw(port: number, request: Buffer, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const done = (status: number) => {
      socket.destroy();
      resolve(status);
    };
    socket.setTimeout(timeoutMs, () => done(0));
    socket.on('data', (c: Buffer) => {
      data += c.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      if (m?.[1]) done(Number(m[1]));
    });
    socket.on('error', () => done(0));
    socket.on('close', () => done(0));
    socket.write(request);
  });
}

function rawCases(
  random: () => number,
  n: number,
): { kind: string; bytes: Buffer; id: string; signed: boolean } {
  const order = orderPayload(randomOrder(random, n, 9, 0, 5));
  const id = `fuzzraw-${n}`;
  const sig = signShopifyWebhook(order, DEMO_SECRET);
  const base = `POST /webhooks/shopify HTTP/1.1\r\nHost: x\r\nX-Shopify-Topic: orders/create\r\nX-Shopify-Shop-Domain: ${DEMO_SHOP}\r\nX-Shopify-Webhook-Id: ${id}\r\n`;
  const k = Math.floor(random() * 6);
  if (k === 0) {
    // chunked, validly signed
    const chunks = `${order.length.toString(16)}\r\n${order.toString('latin1')}\r\n0\r\n\r\n`;
    return {
      kind: 'raw chunked (signed)',
      bytes: Buffer.from(
        `${base}X-Shopify-Hmac-Sha256: ${sig}\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}`,
        'latin1',
      ),
      id,
      signed: true,
    };
  }
  if (k === 1)
    return {
      kind: 'raw content-length larger than body',
      bytes: Buffer.from(
        `${base}X-Shopify-Hmac-Sha256: ${sig}\r\nContent-Length: 999999\r\n\r\n{"id":1}`,
        'latin1',
      ),
      id,
      signed: false,
    };
  if (k === 2)
    return {
      kind: 'raw duplicated HMAC headers',
      bytes: Buffer.concat([
        Buffer.from(
          `${base}X-Shopify-Hmac-Sha256: ${sig}\r\nX-Shopify-Hmac-Sha256: AAAA\r\nContent-Length: ${order.length}\r\n\r\n`,
          'latin1',
        ),
        order,
      ]),
      id,
      signed: false,
    };
  if (k === 3)
    return {
      kind: 'raw non-ASCII header bytes',
      bytes: Buffer.concat([
        Buffer.from(`${base}X-Shopify-Hmac-Sha256: ${sig}\r\nX-Shopify-Event-Id: `, 'latin1'),
        Buffer.from([0xe2, 0x82, 0xac, 0xff]),
        Buffer.from(`\r\nContent-Length: ${order.length}\r\n\r\n`, 'latin1'),
        order,
      ]),
      id,
      signed: true,
    };
  if (k === 4)
    return {
      kind: 'raw chunked over 2 MiB',
      bytes: Buffer.from(
        `${base}X-Shopify-Hmac-Sha256: ${sig}\r\nTransfer-Encoding: chunked\r\n\r\n${'100000\r\n'}${' '.repeat(0x100000)}\r\n100000\r\n${' '.repeat(0x100000)}\r\n10\r\n${' '.repeat(16)}\r\n0\r\n\r\n`,
        'latin1',
      ),
      id,
      signed: false,
    };
  return {
    kind: 'raw garbage request',
    bytes: randomBytes(1 + Math.floor(random() * 2000)),
    id,
    signed: false,
  };
}

/** What the fuzz saw: answers by kind of input, the bodies validly signed, and the violations. */
function createTally() {
  const statusByKind = new Map<string, Map<number, number>>();
  return {
    statusByKind,
    /** webhook id → the bytes validly signed (empty: signed, but not compared) */
    signedBodies: new Map<string, Buffer>(),
    violations: [] as string[],
    bump(kind: string, status: number) {
      const m = statusByKind.get(kind) ?? new Map<number, number>();
      m.set(status, (m.get(status) ?? 0) + 1);
      statusByKind.set(kind, m);
    },
  };
}
type Tally = ReturnType<typeof createTally>;

/** Random requests through Node's HTTP client, 8 at a time: no 5xx and no unanswered request. */
async function sendCases(url: string, cases: readonly Case[], tally: Tally): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (;;) {
        const c = cases[next++];
        if (!c) return;
        if (c.validlySigned && c.id) tally.signedBodies.set(c.id, c.body);
        const r = await post(url, c.body, c.headers);
        tally.bump(c.kind, r.status);
        if (r.status >= 500 || r.status === 0)
          tally.violations.push(
            `${c.kind}: ${r.status}${r.error ? ` (${r.error})` : ''} while the database was up`,
          );
      }
    }),
  );
}

/** Raw HTTP/1.1 requests, one at a time: no 5xx. */
async function sendRawCases(port: number, random: () => number, count: number, tally: Tally): Promise<void> {
  for (let i = 0; i < count; i++) {
    const c = rawCases(random, i + 1);
    if (c.signed) tally.signedBodies.set(c.id, Buffer.alloc(0));
    const status = await raw(port, c.bytes);
    tally.bump(c.kind, status);
    if (status >= 500) tally.violations.push(`${c.kind}: ${status} while the database was up`);
  }
}

const healthz = (baseUrl: string) =>
  fetch(`${baseUrl}/healthz`).then(
    (r) => r.status,
    () => 0,
  );

/**
 * The database goes away (connections refused, the app's sessions terminated): only 503 and never an
 * ack; then it comes back, and the server must serve again without a restart.
 */
async function whileDatabaseDown(
  api: { url: string },
  dbName: string,
  cases: readonly Case[],
  tally: Tally,
): Promise<void> {
  const admin = createSql(adminUrl(), { max: 1 });
  await admin.unsafe(`alter database ${dbName} with allow_connections false`);
  await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${dbName} and pid <> pg_backend_pid()`;
  await sleep(200);
  for (const c of cases) {
    const r = await post(`${api.url}/webhooks/shopify`, c.body, c.headers);
    tally.bump(`(database down) ${c.validlySigned ? 'signed' : 'other'}`, r.status);
    if (r.status >= 500 && r.status !== 503) tally.violations.push(`database down: ${r.status}`);
    if (r.status === 200) tally.violations.push('database down: 200 (an ack that cannot be durable)');
  }
  await admin.unsafe(`alter database ${dbName} with allow_connections true`);
  await admin.end();
  let back = 0;
  for (let i = 0; i < 50 && back !== 200; i++) {
    await sleep(200);
    back = await healthz(api.url);
  }
  if (back !== 200) tally.violations.push(`healthz ${back} 10 s after the database came back`);
}

/** Only validly signed deliveries are stored, with exactly the bytes that were signed. */
async function checkStored(sql: Sql, tally: Tally) {
  const stored = await sql<{ external_id: string; payload: string; status: string }[]>`
    select external_id, payload, status from webhook_events`;
  let unsigned = 0;
  let altered = 0;
  for (const row of stored) {
    const signed = tally.signedBodies.get(row.external_id);
    if (!signed) {
      unsigned += 1;
      tally.violations.push(`stored an event that was not validly signed: ${row.external_id.slice(0, 40)}`);
    } else if (signed.length > 0 && row.status !== 'failed') {
      if (row.payload !== signed.toString('utf8')) altered += 1;
    }
  }
  return { stored: stored.length, unsigned, altered };
}

function fuzzReport(
  command: string,
  counts: { count: number; rawCount: number; downCount: number },
  tally: Tally,
  events: Awaited<ReturnType<typeof checkStored>>,
): SectionReport {
  const kinds = [...tally.statusByKind.keys()].sort();
  const table = markdownTable(
    ['input', 'answers (status × count)'],
    kinds.map((k) => [
      k,
      [...(tally.statusByKind.get(k) ?? new Map()).entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([s, n]) => `${s === 0 ? 'no answer' : s}×${n}`)
        .join(', '),
    ]),
  );
  const { violations } = tally;
  const body = [
    stamp(command),
    '',
    `${counts.count} random requests through Node's HTTP client (8 at a time) and ${counts.rawCount} raw HTTP/1.1 requests, ` +
      `then ${counts.downCount} while the bench database refused connections (ALTER DATABASE … ALLOW_CONNECTIONS ` +
      "false and the app's sessions terminated — the shared cluster itself is never stopped), then the " +
      'database back. Headers, bodies, encodings and signatures drawn at random (seeded, repeatable).',
    '',
    table,
    '',
    `- 5xx other than 503, or an ack while the database was down: **${violations.filter((v) => !v.startsWith('stored')).length}**.`,
    `- Events stored: ${events.stored}; not validly signed: **${events.unsigned}**; stored bytes differing from the ` +
      `signed UTF-8 body: ${events.altered}.`,
    ...(violations.length > 0
      ? [
          '',
          '<details><summary>violations</summary>',
          '',
          ...violations.slice(0, 50).map((v) => `- ${v}`),
          '</details>',
        ]
      : []),
  ].join('\n');
  return { name: 'fuzz', title: 'Hardening: webhook route fuzz', body };
}

export async function fuzzSection(options: BenchOptions): Promise<SectionReport> {
  const counts = {
    count: options.quick ? 1500 : 5000,
    rawCount: options.quick ? 150 : 500,
    downCount: options.quick ? 200 : 500,
  };
  const db = await createBenchDatabase('fuzz');
  const random = rng(2024);
  const tally = createTally();
  try {
    const api = await startApi({ databaseUrl: db.url, keyText: db.keyText, workerConcurrency: 0 });
    try {
      const cases = Array.from({ length: counts.count }, (_, i) => makeCase(random, i + 1));
      await sendCases(`${api.url}/webhooks/shopify`, cases, tally);
      await sendRawCases(api.port, random, counts.rawCount, tally);
      const alive = await healthz(api.url);
      if (alive !== 200) tally.violations.push(`healthz ${alive} after the fuzz (server down?)`);
      const down = Array.from({ length: counts.downCount }, (_, i) => makeCase(random, counts.count + i + 1));
      await whileDatabaseDown(api, db.name, down, tally);
    } finally {
      await api.stop();
    }
    return fuzzReport(options.command, counts, tally, await checkStored(db.sql, tally));
  } finally {
    const admin = createSql(adminUrl(), { max: 1 });
    await admin.unsafe(`alter database ${db.name} with allow_connections true`).catch(() => {});
    await admin.end();
    await db.drop();
  }
}
