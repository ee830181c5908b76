/**
 * Abuse: what an anonymous client can do to everyone else, against `npm start`'s server (127.0.0.1
 * only, every loop bounded by time or count). Phases, each measuring signed-in `auth.me` latency,
 * signed-webhook latency and the server's resident memory (VmRSS):
 * - baseline: nothing else running;
 * - login flood: 50 loops of wrong logins, each from its own local address (127.0.0.2–51);
 * - stalled uploads: 500 webhook uploads announcing 2 MiB, sending 1 KiB, then silent, from their own
 *   address (127.0.0.60: an attacker is not Shopify; the signed deliveries come from 127.0.0.1);
 * - oversized bodies: 20 loops posting /trpc bodies announcing 300 MB (8 MiB sent at most each);
 * - all at once.
 * Goals (issue #22): signed-in p99 < 500 ms during the flood, memory growth < 100 MB under stalled
 * uploads and oversized bodies.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { startApi } from '../lib/app.ts';
import { createBenchDatabase } from '../lib/db.ts';
import type { BenchOptions } from '../lib/options.ts';
import { type SectionReport, stamp } from '../lib/report.ts';
import { fmt, markdownTable, percentile, sleep } from '../lib/stats.ts';
import { orderIdFor, orderPayload, post, signedHeaders } from '../lib/webhooks.ts';

const keepAlive = new Agent({ keepAlive: true, maxSockets: 8 });

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

type Call = { status: number; ms: number };

function call(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string },
): Promise<Call> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: init.method ?? 'GET',
        headers: init.headers,
        ...(init.localAddress ? { localAddress: init.localAddress, agent: false } : { agent: keepAlive }),
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
        res.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end(init.body);
  });
}

async function signIn(base: string): Promise<string> {
  const res = await fetch(`${base}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-trpc-source': 'bench' },
    body: JSON.stringify({ email: 'owner@demo.test', password: 'demo-password' }),
  });
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('crm_session='));
  if (res.status !== 200 || !cookie) throw new Error(`sign-in failed: ${res.status}`);
  return cookie.split(';')[0] ?? '';
}

/** Runs `body` over and over until `until()` says stop (each loop is bounded by the phase's time). */
async function loop(until: () => boolean, body: () => Promise<void>): Promise<void> {
  while (!until()) await body();
}

type Load = { stop: () => boolean };

function loginFlood(base: string, load: Load, statuses: number[]): Promise<void>[] {
  return Array.from({ length: 50 }, (_, i) =>
    loop(load.stop, async () => {
      const r = await call(`${base}/trpc/auth.login`, {
        method: 'POST',
        localAddress: `127.0.0.${2 + i}`,
        headers: { 'content-type': 'application/json', 'x-trpc-source': 'flood' },
        body: JSON.stringify({ email: `flood-${i}@demo.test`, password: `guess-${Math.random()}` }),
      });
      statuses.push(r.status);
    }),
  );
}

/** The stalled uploads' client address (the login flood uses 127.0.0.2–51). */
const STALLER = '127.0.0.60';

/** 500 uploads that announce 2 MiB, send 1 KiB and stall; resolves with how each ended. */
function stalledUploads(port: number, count: number, statuses: number[]): { sockets: Socket[] } {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const body = Buffer.alloc(1024, 'a');
    const headers = signedHeaders(body, { webhookId: `stall-${process.pid}-${i}` });
    const socket = connect({ port, host: '127.0.0.1', localAddress: STALLER });
    let seen = false;
    socket.on('data', (d: Buffer) => {
      if (seen) return;
      seen = true;
      statuses.push(Number(/^HTTP\/1\.1 (\d{3})/.exec(d.toString('latin1'))?.[1] ?? 0));
    });
    socket.on('close', () => {
      if (!seen) statuses.push(0);
      seen = true;
    });
    socket.on('error', () => {});
    const head = [
      'POST /webhooks/shopify HTTP/1.1',
      'Host: 127.0.0.1',
      'Content-Type: application/json',
      `Content-Length: ${2 * 1024 * 1024}`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      '',
      '',
    ].join('\r\n');
    socket.write(head);
    socket.write(body);
    sockets.push(socket);
  }
  return { sockets };
}

/** Loops POSTing /trpc bodies that announce 300 MB and stream up to 8 MiB of zeros each. */
function oversizedBodies(port: number, load: Load, statuses: number[]): Promise<void>[] {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  return Array.from({ length: 20 }, () =>
    loop(load.stop, async () => {
      const status = await new Promise<number>((resolve) => {
        const req = request({
          host: '127.0.0.1',
          port,
          path: '/trpc/auth.login',
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/json', 'content-length': String(300 * 1024 * 1024) },
        });
        let sent = 0;
        req.on('response', (res) => {
          res.resume();
          req.destroy();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', () => resolve(0));
        const pump = () => {
          while (sent < 8 * 1024 * 1024 && !req.destroyed) {
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
        };
        pump();
        setTimeout(() => {
          req.destroy();
          resolve(0);
        }, 10_000).unref();
      });
      statuses.push(status);
    }),
  );
}

type PhaseResult = {
  name: string;
  signedIn: Call[];
  webhooks: Call[];
  rssBefore: number;
  rssPeak: number;
  attack: string;
};

function countStatuses(statuses: number[]): string {
  const counts = new Map<number, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([s, n]) => `${n}× ${s === 0 ? 'reset/none' : s}`)
    .join(', ');
}

async function phase(
  name: string,
  ctx: { base: string; port: number; pid: number; cookie: string; seconds: number; runTag: number },
  attacks: { flood?: boolean; stalled?: boolean; oversized?: boolean },
): Promise<PhaseResult> {
  const deadline = Date.now() + ctx.seconds * 1000;
  const load: Load = { stop: () => Date.now() > deadline };
  const rssBefore = rssMb(ctx.pid);
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssMb(ctx.pid));
  }, 200);
  const flood: number[] = [];
  const stalled: number[] = [];
  const oversized: number[] = [];
  const attackers: Promise<void>[] = [];
  if (attacks.flood) attackers.push(...loginFlood(ctx.base, load, flood));
  const uploads = attacks.stalled ? stalledUploads(ctx.port, 500, stalled) : { sockets: [] };
  if (attacks.oversized) attackers.push(...oversizedBodies(ctx.port, load, oversized));
  const signedIn: Call[] = [];
  const webhooks: Call[] = [];
  let n = 0;
  await Promise.all([
    loop(load.stop, async () => {
      signedIn.push(await call(`${ctx.base}/trpc/auth.me`, { headers: { cookie: ctx.cookie } }));
      await sleep(20);
    }),
    loop(load.stop, async () => {
      n += 1;
      const spec = {
        orderId: orderIdFor(n, ctx.runTag),
        number: n,
        name: 'Ana Gómez',
        phone: null,
        email: null,
        city: 'Bogotá',
        department: 'Cundinamarca',
        skus: ['SKU-1'],
      };
      const body = orderPayload(spec);
      const r = await post(`${ctx.base}/webhooks/shopify`, body, signedHeaders(body), 30_000);
      webhooks.push({ status: r.status, ms: r.ms });
      await sleep(50);
    }),
  ]);
  await Promise.all(attackers);
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, rssMb(ctx.pid));
  for (const s of uploads.sockets) s.destroy();
  const attack = [
    attacks.flood ? `logins: ${countStatuses(flood)}` : '',
    attacks.stalled ? `stalled uploads (answered within the phase): ${countStatuses(stalled)}` : '',
    attacks.oversized ? `oversized bodies: ${countStatuses(oversized)}` : '',
  ]
    .filter(Boolean)
    .join('; ');
  await sleep(1000);
  return { name, signedIn, webhooks, rssBefore, rssPeak, attack: attack || '—' };
}

export async function abuseSection(options: BenchOptions): Promise<SectionReport> {
  const seconds = options.quick ? 8 : 15;
  const db = await createBenchDatabase('abuse');
  const results: PhaseResult[] = [];
  try {
    const api = await startApi({ databaseUrl: db.url, keyText: db.keyText, workerConcurrency: 0 });
    try {
      const ctx = {
        base: api.url,
        port: api.port,
        pid: api.pid,
        cookie: await signIn(api.url),
        seconds,
        runTag: Date.now() % 100_000,
      };
      results.push(await phase('baseline', { ...ctx, runTag: ctx.runTag }, {}));
      results.push(
        await phase(
          'login flood (50 loops, 50 addresses)',
          { ...ctx, runTag: ctx.runTag + 1 },
          { flood: true },
        ),
      );
      results.push(
        await phase('500 stalled webhook uploads', { ...ctx, runTag: ctx.runTag + 2 }, { stalled: true }),
      );
      results.push(
        await phase(
          'oversized /trpc bodies (20 loops)',
          { ...ctx, runTag: ctx.runTag + 3 },
          { oversized: true },
        ),
      );
      results.push(
        await phase(
          'all at once',
          { ...ctx, runTag: ctx.runTag + 4 },
          { flood: true, stalled: true, oversized: true },
        ),
      );
    } finally {
      await api.stop();
    }
  } finally {
    await db.drop();
  }
  const rows = results.map((r) => {
    const ok = (calls: Call[]) => calls.filter((c) => c.status === 200).length;
    return [
      r.name,
      `${fmt(
        percentile(
          r.signedIn.map((c) => c.ms),
          50,
        ),
        0,
      )} / ${fmt(
        percentile(
          r.signedIn.map((c) => c.ms),
          99,
        ),
        0,
      )}`,
      `${ok(r.signedIn)}/${r.signedIn.length}`,
      `${fmt(
        percentile(
          r.webhooks.map((c) => c.ms),
          50,
        ),
        0,
      )} / ${fmt(
        percentile(
          r.webhooks.map((c) => c.ms),
          99,
        ),
        0,
      )}`,
      `${ok(r.webhooks)}/${r.webhooks.length}`,
      `${fmt(r.rssBefore, 0)} → ${fmt(r.rssPeak, 0)} (+${fmt(r.rssPeak - r.rssBefore, 0)})`,
    ];
  });
  const body = [
    stamp(options.command),
    '',
    `Each phase ${seconds} s against \`npm start\`'s server (no workers), traffic to 127.0.0.1 only; the machine (2 cores) was shared with other agents' builds and tests while it ran, so compare phases within this run. Goals: signed-in p99 < 500 ms during the login flood; memory growth < 100 MB under stalled uploads and oversized bodies.`,
    '',
    markdownTable(
      [
        'phase',
        'signed-in auth.me p50 / p99 ms',
        'signed-in 200',
        'webhook p50 / p99 ms',
        'webhooks 200',
        'server RSS MB (peak)',
      ],
      rows,
    ),
    '',
    ...results.map((r) => `- ${r.name}: ${r.attack}`),
  ].join('\n');
  return { name: 'abuse', title: 'Abuse: login flood, stalled uploads, oversized bodies', body };
}
