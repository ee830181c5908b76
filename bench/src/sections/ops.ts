/**
 * The cost of operating it: webhook ingest at saturation with the server's logs and metrics off
 * (LOG_LEVEL=silent, metrics off) and on (JSON logs at info, one line per delivery, piped to the
 * bench; METRICS_ENABLED=true: counters and the ack histogram), in ONE run, alternating
 * off/on/off/on on the same database so a drift of the (shared) machine favours neither. The goal:
 * "on" within 5% of "off".
 */
import { startApi } from '../lib/app.ts';
import { createBenchDatabase } from '../lib/db.ts';
import { webhookLoad } from '../lib/load.ts';
import { OPS_OFF, OPS_ON } from '../lib/ops.ts';
import type { BenchOptions } from '../lib/options.ts';
import { type SectionReport, stamp } from '../lib/report.ts';
import { fmt, markdownTable, pct, rng } from '../lib/stats.ts';
import { orderPayload, randomOrder, signedHeaders } from '../lib/webhooks.ts';

type Run = { mode: 'off' | 'on'; rps: number; p50: number; p99: number; ok: number; sent: number };

export async function opsSection(options: BenchOptions): Promise<SectionReport> {
  const connections = 16;
  const amount = options.quick ? 8000 : 20000;
  const rounds = options.quick ? 2 : 3;
  const db = await createBenchDatabase('ops');
  const runs: Run[] = [];
  try {
    const body = orderPayload(randomOrder(rng(11), 1, 1, 0, 5));
    const headers = signedHeaders(body);
    let n = 0;
    for (let round = 0; round < rounds; round++) {
      for (const mode of round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        const api = await startApi({
          databaseUrl: db.url,
          keyText: db.keyText,
          workerConcurrency: 0,
          extra: mode === 'on' ? OPS_ON : OPS_OFF,
        });
        try {
          const load = (idPrefix: string, count: number) =>
            webhookLoad({
              url: api.url,
              body,
              headers,
              idPrefix,
              amount: count,
              connections,
              maxSeconds: 120,
            });
          await load(`warm${n}${mode}`, 1500);
          const r = await load(`run${n}${mode}`, amount);
          const ok = [...r.statuses.values()].filter((s) => s === 200).length;
          runs.push({ mode, rps: r.throughput, p50: r.p50, p99: r.p99, ok, sent: r.sent });
          console.log(
            `  ops ${mode}: ${fmt(r.throughput)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${ok}/${r.sent} ok`,
          );
        } finally {
          await api.stop();
        }
        n++;
      }
    }
  } finally {
    await db.drop();
  }
  const mean = (mode: 'on' | 'off') => {
    const of = runs.filter((r) => r.mode === mode);
    return of.reduce((a, r) => a + r.rps, 0) / Math.max(1, of.length);
  };
  const ratio = mean('on') / mean('off');
  const table = markdownTable(
    ['#', 'logs + metrics', 'requests', '200', 'throughput (req/s)', 'p50 ack (ms)', 'p99 ack (ms)'],
    runs.map((r, i) => [
      String(i + 1),
      r.mode,
      String(r.sent),
      String(r.ok),
      fmt(r.rps),
      fmt(r.p50, 0),
      fmt(r.p99, 0),
    ]),
  );
  const body = [
    stamp(options.command),
    '',
    `Server: \`apps/api/src/main.ts\`, WORKER_CONCURRENCY=0, ${connections} keep-alive connections at saturation ` +
      `(autocannon in the bench process), ${amount} signed orders/create deliveries per run after 1,500 of warm-up, ` +
      `a fresh server process per run, runs alternating off/on. "on": LOG_LEVEL=info (a JSON line per delivery, ` +
      'piped to the bench process) and METRICS_ENABLED=true; "off": LOG_LEVEL=silent, metrics off.',
    '',
    table,
    '',
    `- Mean throughput: off **${fmt(mean('off'))} req/s**, on **${fmt(mean('on'))} req/s** → on/off = ` +
      `**${pct(ratio)}** (goal ≥ 95%).`,
  ].join('\n');
  return { name: 'ops', title: 'Logs and metrics overhead on ingest', body };
}
